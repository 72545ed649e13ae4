/**
 * Failures and pruning on a live federation: edges that die mid-query or fall silent give 08006
 * naming them (or a NOTICE with fedgres.partial_results), a replica takes over its shard, a
 * cancel reaches the edges, and pruned queries contact only the edges that hold matching rows.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import type pg from 'pg'
import { cancelRequest, FrontendEncoder } from '../../common/pgwire/index.js'
import { RawSession } from '../clients/index.js'
import { exchange } from '../helpers/transcript.js'
import { startMiniFederation, type MiniFederation } from '../helpers/mini-federation.js'
import { sleep, waitFor } from '../helpers/wait.js'

const count = async (c: pg.Client, sql: string, params?: unknown[]) => Number((await c.query(sql, params)).rows[0]!.n)

async function expectError(p: Promise<unknown>, code: string, message: RegExp): Promise<Error> {
  try {
    await p
  } catch (e) {
    const err = e as Error & { code?: string }
    assert.equal(err.code, code, err.message)
    assert.match(err.message, message)
    return err
  }
  assert.fail(`expected SQLSTATE ${code}`)
}

describe('federation faults and pruning', () => {
  let fed: MiniFederation
  let c: pg.Client
  const edge = (id: string) => fed.edges.find((e) => e.id === id)!
  /** After a fault, waits until discovery sees every edge healthy again. */
  const healthy = () => waitFor('all edges passing', () => fed.gateway.gateway.discovery!.current().edges.every((e) => e.status === 'passing'), 10_000)
  const directCount = async (id: string, sql: string) => Number((await edge(id).direct(sql))[0]!.n)

  before(async () => {
    fed = await startMiniFederation(['host-a', 'host-b', 'host-c'], [
      { id: 'ea', source: 0 },
      { id: 'eb', source: 1 },
      { id: 'ec1', source: 2, shard: 'sc' },
      { id: 'ec2', source: 2, shard: 'sc' },
    ])
    c = await fed.client()
  })
  after(async () => {
    await c?.end().catch(() => {})
    await fed?.stop()
  })

  test('the whole network answers as one database; a replica pair counts once', async () => {
    const want = (await directCount('ea', 'SELECT count(*) AS n FROM logs')) + (await directCount('eb', 'SELECT count(*) AS n FROM logs')) + (await directCount('ec1', 'SELECT count(*) AS n FROM logs'))
    assert.equal(await directCount('ec1', 'SELECT count(*) AS n FROM logs'), await directCount('ec2', 'SELECT count(*) AS n FROM logs'))
    assert.equal(await count(c, 'SELECT count(*) AS n FROM logs'), want)
  })

  test('a query on one host contacts only its edge, as EXPLAIN and the edges\' counters show', async () => {
    const want = await directCount('ea', "SELECT count(*) AS n FROM logs WHERE host_name = 'host-a'")
    const before = fed.edges.map((e) => e.edge.served())
    const n = await count(c, "SELECT count(*) AS n FROM logs WHERE host_name = 'host-a'")
    assert.equal(n, want)
    const delta = fed.edges.map((e, i) => e.edge.served() - before[i]!)
    assert.deepEqual(delta, [1, 0, 0, 0])
    const plan = (await c.query("EXPLAIN SELECT count(*) FROM logs WHERE host_name = 'host-a'")).rows.map((r) => r['QUERY PLAN'] as string)
    assert.equal(plan[0], 'Fedgres router')
    assert.ok(plan.includes('  Shards asked: 1'), plan.join('\n'))
    assert.ok(plan.some((l) => /edge eb \(shard eb\): logs\.host_name: holds none of 'host-a'/.test(l)), plan.join('\n'))
    // The same plan as one json value (pgAdmin and DBeaver ask for FORMAT JSON), with ANALYZE's figures.
    const [json] = (await c.query("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM logs WHERE host_name = 'host-a'")).rows.map((r) => r['QUERY PLAN'] as { Plan: Record<string, unknown>; 'Execution Time': number }[])
    const top = json![0]!
    assert.equal(top.Plan['Custom Plan Provider'], 'Fedgres router')
    assert.deepEqual((top.Plan.Plans as { Edge: string; 'Actual Rows': number }[]).map((x) => [x.Edge, x['Actual Rows']]), [['ea', 1]])
    assert.ok((top.Plan['Edges Pruned'] as { Edge: string; Reason: string }[]).some((x) => x.Edge === 'eb' && /holds none of 'host-a'/.test(x.Reason)))
    assert.ok(top['Execution Time'] > 0)
    await expectError(c.query('EXPLAIN (FORMAT YAML) SELECT count(*) FROM logs'), '0A000', /FORMAT YAML/)
  })

  test('a narrow time range outside every edge\'s data contacts no edge and still answers exactly', async () => {
    const before = fed.edges.map((e) => e.edge.served())
    const n = await count(c, "SELECT count(*) AS n FROM logs WHERE time >= now() + interval '1 day'")
    assert.equal(n, 0)
    const from = new Date(Date.now() + 86_400_000).toISOString()
    const to = new Date(Date.now() + 2 * 86_400_000).toISOString()
    assert.equal((await c.query(`SELECT max(time) AS m FROM logs WHERE time BETWEEN '${from}' AND '${to}'`)).rows[0].m, null)
    assert.deepEqual(fed.edges.map((e, i) => e.edge.served() - before[i]!), [0, 0, 0, 0])
  })

  test('an edge killed mid-query fails the query with 08006 naming it, or a NOTICE with partial results', async () => {
    const all = await count(c, 'SELECT count(*) AS n FROM logs')
    const onA = await directCount('ea', 'SELECT count(*) AS n FROM logs')
    edge('ea').proxy.killAfterBytes(20_000)
    await expectError(c.query('SELECT * FROM logs'), '08006', /edge ea/)
    await c.query('SET fedgres.partial_results = on')
    const notices: string[] = []
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '')
    c.on('notice', onNotice)
    const r = await c.query('SELECT * FROM logs').finally(() => c.query('RESET fedgres.partial_results'))
    c.off('notice', onNotice)
    edge('ea').proxy.restore()
    assert.equal(r.rowCount, all - onA)
    assert.ok(notices.some((m) => /results exclude shard ea/.test(m)), notices.join('\n'))
    await c.query('RESET fedgres.partial_results')
    edge('ea').proxy.restore()
  })

  test('a parameter\'s bad value fails the Bind of a federated aggregate, as in PostgreSQL, also once the statement\'s description is kept', async () => {
    const gw = fed.gateway
    const s = await RawSession.login({ host: '127.0.0.1', port: gw.port, user: gw.user, password: gw.password, database: gw.database, tls: false })
    try {
      // The second Bind finds the description kept (no check on the shadow): the edges' Bind fails, before BindComplete.
      const sql = 'SELECT count(*) AS n FROM logs WHERE pid = $2 OR host_name = $1'
      const bytes = new FrontendEncoder().parse('', sql).bind('', '', [], ['host-a', '5'], []).execute('', 0).sync().parse('', sql).bind('', '', [], ['host-a', '5.0'], []).execute('', 0).sync().take()
      const lines = await exchange(s, bytes, 2)
      assert.deepEqual(lines.slice(lines.indexOf('Z I') + 1), ['1', 'E 22P02 invalid input syntax for type integer: "5.0"', 'Z I'])
    } finally {
      s.close()
    }
  })

  test('SHOW and current_setting() give the gateway\'s fedgres.* defaults; SET and RESET change them', async () => {
    const show = async (name: string) => (await c.query(`SHOW ${name}`)).rows[0]![name] as string
    assert.equal(await show('fedgres.edge_timeout'), '30000ms')
    assert.equal(await show('fedgres.partial_results'), 'off')
    assert.equal((await c.query("SELECT current_setting('fedgres.max_gather_rows') AS v")).rows[0].v, '1000000')
    await c.query("SET fedgres.edge_timeout = '2s'")
    assert.equal(await show('fedgres.edge_timeout'), '2s')
    await c.query('RESET fedgres.edge_timeout')
    assert.equal(await show('fedgres.edge_timeout'), '30000ms')
  })

  test('a silent edge is given up after fedgres.edge_timeout with 08006', async () => {
    edge('eb').proxy.hang()
    await c.query("SET fedgres.edge_timeout = '1s'")
    const t0 = Date.now()
    await expectError(c.query('SELECT count(*) FROM alerts'), '08006', /edge eb .*no answer within 1000 ms/)
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`)
    // Other output settings need a new connection: connecting to the hung edge is bounded by it too
    // (the pool's own connect timeout is 5 s).
    await c.query("SET TimeZone = 'Asia/Kolkata'")
    const t1 = Date.now()
    await expectError(c.query('SELECT count(*) FROM alerts'), '08006', /edge eb .*1000 ms/)
    assert.ok(Date.now() - t1 < 3000, `connecting took ${Date.now() - t1} ms`)
    await c.query('RESET TimeZone')
    await c.query('RESET fedgres.edge_timeout')
    edge('eb').proxy.restore()
    await healthy()
  })

  test('fedgres.edge_timeout counts silence: an edge that answers slowly, but steadily, past it is not cut off', async () => {
    const sql = "SELECT * FROM logs WHERE host_name = 'host-b'"
    const proxy = edge('eb').proxy
    const bytes0 = proxy.replyBytes
    const want = await c.query(sql)
    const replyBytes = proxy.replyBytes - bytes0
    assert.ok(want.rowCount! > 0)
    // The same reply now takes about 2.5 s to arrive, with never more than 100 ms of silence.
    proxy.throttle(replyBytes / 2.5)
    await c.query("SET fedgres.edge_timeout = '1s'")
    const t0 = Date.now()
    const got = await c.query(sql)
    const ms = Date.now() - t0
    proxy.restore()
    await c.query('RESET fedgres.edge_timeout')
    assert.ok(ms > 1500, `the throttled reply took only ${ms} ms`)
    const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort()
    assert.deepEqual(sorted(got.rows), sorted(want.rows))
  })

  test('rows stream as they arrive: a LIMIT met by the fast edges returns while a slow edge still works, and it is cancelled', async () => {
    const proxy = edge('eb').proxy
    proxy.hang()
    const closedBefore = proxy.clientClosed
    const t0 = Date.now()
    const r = await c.query("SELECT host_name FROM logs WHERE host_name <> 'host-b' LIMIT 5")
    assert.equal(r.rowCount, 5)
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`)
    await waitFor('slow edge cancelled', () => proxy.clientClosed > closedBefore, 5000)
    proxy.restore()
    await healthy()
  })

  test('a replica takes over when the preferred one dies before sending rows', async () => {
    const want = await directCount('ec2', "SELECT count(*) AS n FROM logs WHERE host_name = 'host-c'")
    edge('ec1').proxy.kill()
    assert.equal(await count(c, "SELECT count(*) AS n FROM logs WHERE host_name = 'host-c'"), want)
    const rows = (await c.query("EXPLAIN ANALYZE SELECT host_name FROM logs WHERE host_name = 'host-c' ORDER BY time LIMIT 3")).rows.map((r) => r['QUERY PLAN'] as string)
    assert.ok(rows.some((l) => /edge ec2: 3 rows/.test(l)), rows.join('\n'))
    edge('ec1').proxy.restore()
    await healthy()
  })

  test('a cancel stops the edges\' work: the gateway drops its edge connections and answers 57014', async () => {
    const proxy = edge('ea').proxy
    proxy.hang()
    const closedBefore = proxy.clientClosed
    const { processID, secretKey } = c as unknown as { processID: number; secretKey: number }
    const running = c.query('SELECT * FROM logs ORDER BY time')
    await sleep(300)
    const sent = Date.now()
    const s = net.connect({ host: '127.0.0.1', port: fed.gateway.port }, () => s.end(cancelRequest(processID, secretKey)))
    await expectError(running, '57014', /canceling statement/)
    // At once, as PostgreSQL answers: not after the hung edge's second to confirm the cancel.
    assert.ok(Date.now() - sent < 500, `answered ${Date.now() - sent} ms after the cancel`)
    await waitFor('edge connection dropped', () => proxy.clientClosed > closedBefore, 5000)
    proxy.restore()
    await healthy()
    assert.ok((await count(c, 'SELECT count(*) AS n FROM alerts')) > 0)
  })
  test('statement_timeout ends a federated statement with 57014 and stops its edges\' work; the next statement runs', async () => {
    const proxy = edge('ea').proxy
    proxy.hang()
    const closedBefore = proxy.clientClosed
    await c.query("SET statement_timeout = '400ms'")
    const t0 = Date.now()
    await expectError(c.query('SELECT * FROM logs ORDER BY time'), '57014', /canceling statement due to statement timeout/)
    const ms = Date.now() - t0
    assert.ok(ms >= 350 && ms < 900, `timed out after ${ms} ms`)
    await waitFor('edge connection dropped', () => proxy.clientClosed > closedBefore, 5000)
    proxy.restore()
    await healthy()
    // The timer counts each statement afresh: a quick one after it is not cut off.
    assert.ok((await count(c, 'SELECT count(*) AS n FROM alerts')) > 0)
    // And in the extended protocol (parameters), from Bind to the end of Execute.
    proxy.hang()
    await expectError(c.query('SELECT * FROM logs WHERE pid > $1 ORDER BY time', [0]), '57014', /statement timeout/)
    proxy.restore()
    await c.query('RESET statement_timeout')
    await healthy()
    assert.ok((await count(c, 'SELECT count(*) AS n FROM alerts')) > 0)
  })
})
