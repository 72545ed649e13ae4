/**
 * A top-N on time over a wide fan-out asks the shards with the newest (or oldest) data first,
 * then only the shards whose rows can reach the answer (gateway/plan/time-bound.ts). 24 edges
 * (native PostgreSQL databases, as the gateway federates any Postgres-wire edge) each hold one
 * day of logs, and publish the synopsis of their rows. Answers must equal one PostgreSQL holding
 * every row; EXPLAIN ANALYZE shows which edges were asked.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { schemaStatements } from '../../schema/index.js'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'
import { waitFor } from '../helpers/wait.js'

const EDGES = 24
const ROWS = 200
const raw = { getTypeParser: () => (v: string) => v }

/** Edge i: hosts th-i-*, a row every 10 minutes for 33 hours from day i (so each overlaps the next; edges 22 and 23 share theirs). */
const load = (i: number) => `INSERT INTO logs (time, edge_id, cluster_name, host_name, namespace_name, pid, process_name, operation, resource, tags)
  SELECT TIMESTAMPTZ '2026-11-01 00:00:00+00' + ${Math.min(i, EDGES - 2)} * interval '1 day' + g * interval '10 minutes' + ${i} * interval '1 second', 'tb_${i}', 'c', 'th-${i}-' || (g % 3),
    'default', (g * 7919 + ${i}) % 30000, '/bin/sh', 'Process', '/etc/x', ARRAY['n:${i}'] FROM generate_series(0, ${ROWS - 1}) g`

const synopsisView = (i: number) => {
  const t = (x: string) => `(SELECT jsonb_build_object('rows', count(*), 'minTime', (extract(epoch FROM min(time)) * 1000000)::bigint, 'maxTime', (extract(epoch FROM max(time)) * 1000000)::bigint,
    'values', jsonb_build_object('cluster_name', coalesce(jsonb_agg(DISTINCT cluster_name), '[]'), 'host_name', coalesce(jsonb_agg(DISTINCT host_name), '[]'),
      'namespace_name', coalesce(jsonb_agg(DISTINCT namespace_name), '[]'), 'tags', to_jsonb(ARRAY['n:${i}']))) FROM ${x})`
  return [
    `CREATE MATERIALIZED VIEW fedgres.synopsis_m AS SELECT jsonb_build_object('edgeId', 'tb_${i}', 'version', 1, 'publishedAt', now(), 'schemaVersion', 1, 'tables', jsonb_build_object('alerts', ${t('alerts')}, 'logs', ${t('logs')})) AS synopsis`,
    'CREATE VIEW fedgres.synopsis AS SELECT synopsis FROM fedgres.synopsis_m',
  ]
}

describe('a top-N on time over 24 edges', { timeout: 300_000 }, () => {
  let native: NativePg
  let fixture: GatewayFixture
  let gw: pg.Client
  let central: pg.Client
  const dbs = Array.from({ length: EDGES }, (_, i) => `tb_${i}`)

  before(async () => {
    native = await startNativePostgres({ postgresFlags: ['-c', 'max_connections=200'] })
    const run = async (db: string, sqls: string[]) => {
      const c = new pg.Client({ host: native.host, port: native.port, user: native.user, password: native.password, database: db })
      await c.connect()
      for (const s of sqls) await c.query(s)
      await c.end()
    }
    await run('postgres', ['CREATE DATABASE tb_template'])
    await run('tb_template', [...schemaStatements('reference'), 'CREATE INDEX ON logs (time)'])
    for (const d of [...dbs, 'tb_central']) await run('postgres', [`CREATE DATABASE ${d} TEMPLATE tb_template`])
    for (let i = 0; i < EDGES; i++) await run(dbs[i]!, [load(i), ...synopsisView(i)])
    await run('tb_central', dbs.map((_, i) => load(i)))
    fixture = await startTestGateway({
      discovery: { kind: 'static', edges: dbs.map((d) => ({ edge_id: d, address: `${native.host}:${native.port}`, database: d })), synopsis_poll: 1000 },
      edge_credentials: { user: native.user, password: native.password },
    })
    await waitFor('synopses', () => fixture.gateway.discovery!.current().edges.every((e) => e.synopsis !== null), 60_000)
    gw = new pg.Client({ host: '127.0.0.1', port: fixture.port, user: fixture.user, password: fixture.password, database: fixture.database })
    central = new pg.Client({ host: native.host, port: native.port, user: native.user, password: native.password, database: 'tb_central' })
    await Promise.all([gw.connect(), central.connect()])
  })
  after(async () => {
    await gw?.end().catch(() => {})
    await central?.end().catch(() => {})
    await fixture?.stop()
    await native?.stop()
  })

  const rows = async (c: pg.Client, sql: string, params?: unknown[]) => (await c.query({ text: sql, values: params, rowMode: 'array', types: raw })).rows.map((r) => JSON.stringify(r))
  /** The edges a statement asked, from EXPLAIN ANALYZE. */
  const asked = async (sql: string, params?: unknown[]) => {
    const plan = (await gw.query({ text: `EXPLAIN ANALYZE ${sql}`, values: params })).rows.map((r) => r['QUERY PLAN'] as string)
    return { edges: plan.flatMap((l) => /-> shard \S+: edge (\S+): \d+ rows/.exec(l)?.[1] ?? []).sort(), plan: plan.join('\n') }
  }

  const newest = ['tb_20', 'tb_21', 'tb_22', 'tb_23']
  const cases: [string, string, unknown[] | undefined, string[] | 'all'][] = [
    ['latest rows: the newest shards settle it', 'SELECT time, host_name, pid FROM logs ORDER BY time DESC LIMIT 10', undefined, newest],
    ['oldest rows, with OFFSET', 'SELECT time, host_name FROM logs ORDER BY time LIMIT 7 OFFSET 3', undefined, ['tb_0', 'tb_1', 'tb_2', 'tb_3']],
    ['a second key after time', 'SELECT time, host_name, pid FROM logs ORDER BY time DESC, pid LIMIT 25', undefined, newest],
    // The 800th row is the oldest of the first four shards: only tb_19 reaches past it.
    ['a bar that reaches into an older shard', 'SELECT time, pid FROM logs ORDER BY time DESC LIMIT 800', undefined, ['tb_19', ...newest]],
    // The first four shards hold 800 rows: fewer than 900, so one round asks every shard.
    ['more rows than the first shards hold', 'SELECT time, pid FROM logs ORDER BY time DESC LIMIT 900', undefined, dbs],
    ['a filter, by parameters', 'SELECT time, pid FROM logs WHERE pid > $1 ORDER BY time DESC LIMIT $2', [29000, 3], 'all'],
  ]
  for (const [title, sql, params, expected] of cases) {
    test(`${title}: the answer equals PostgreSQL's, and ${expected === 'all' ? 'no edge is left out wrongly' : `only ${expected.length} edges are asked`}`, async () => {
      const want = await rows(central, sql, params)
      assert.deepEqual(await rows(gw, sql, params), want)
      // With partial results on (every shard healthy) the answer is the same: the first round's rows count too.
      await gw.query('SET fedgres.partial_results = on')
      try {
        assert.deepEqual(await rows(gw, sql, params), want, 'with fedgres.partial_results = on')
      } finally {
        await gw.query('RESET fedgres.partial_results')
      }
      const { edges, plan } = await asked(sql, params)
      if (expected === dbs) assert.doesNotMatch(plan, /Time-bounded/)
      else assert.match(plan, /Time-bounded: first asks 4 shard\(s\)/)
      if (expected !== 'all') {
        assert.deepEqual(edges, [...expected].sort(), plan)
        if (expected.length < EDGES) assert.match(plan, new RegExp(`Edges skipped while running: ${EDGES - expected.length}\\n`), plan)
      }
    })
  }

  test('a statement an edge cancels on its own (its backend cancelled there) fails with 08006 naming it, or is left out with a NOTICE', async () => {
    // Every edge sleeps 5 ms a row (a second in all); meanwhile tb_5's backend is cancelled on that server.
    const sql = 'SELECT count(*) FROM logs WHERE pg_sleep(0.005) IS NOT NULL'
    const admin = new pg.Client({ host: native.host, port: native.port, user: native.user, password: native.password, database: 'postgres' })
    await admin.connect()
    const cancelEdge = async () => {
      await waitFor('tb_5 busy', async () => (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'tb_5' AND state = 'active'")).rows[0].n > 0, 5000, 20)
      await admin.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = 'tb_5' AND state = 'active'")
    }
    try {
      const [failed] = await Promise.all([gw.query(sql).then(() => undefined, (e: Error & { code?: string }) => e), cancelEdge()])
      assert.equal(failed?.code, '08006', failed?.message)
      assert.match(failed!.message, /edge tb_5/)
      await gw.query('SET fedgres.partial_results = on')
      const notices: string[] = []
      const onNotice = (n: { message?: string }) => notices.push(n.message ?? '')
      gw.on('notice', onNotice)
      try {
        const [r] = await Promise.all([gw.query({ text: sql, rowMode: 'array', types: raw }), cancelEdge()])
        assert.equal(Number(r.rows[0]![0]), (EDGES - 1) * ROWS, 'every other edge counted')
        assert.ok(notices.some((m) => /results exclude shard tb_5/.test(m)), notices.join('\n'))
      } finally {
        gw.off('notice', onNotice)
        await gw.query('RESET fedgres.partial_results')
      }
    } finally {
      await admin.end()
    }
  })

  test('a filter that leaves the first shards short of the answer asks every edge, and still answers exactly', async () => {
    const sql = "SELECT time, host_name FROM logs WHERE host_name LIKE 'th-%-0' AND pid % 97 = 0 ORDER BY time DESC LIMIT 12"
    assert.deepEqual(await rows(gw, sql), await rows(central, sql))
    assert.equal((await asked(sql)).edges.length, EDGES)
  })
})
