/**
 * The /metrics endpoints as Prometheus scrapes them: two `fedgres edge` processes with `metrics`
 * in their config ingest a known number of events, a gateway with `metrics` configured answers
 * queries of every planner tier and one that an edge fails, and both pages parse as Prometheus
 * text format with the documented families, types and values that match the work done.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import YAML from 'yaml'
import { makeScramSecret } from '../../common/scram.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { startCli, type CliProcess } from '../helpers/cli-process.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'
import { scrape, type Scrape } from '../helpers/prometheus-scrape.js'

const EVENTS = 2000
const EDGE_USER = 'fedgres_gateway'
const EDGE_PASSWORD = 'edge-secret'

interface Edge {
  readonly id: string
  readonly source: KubeArmorEventSource
  readonly proc: CliProcess
  readonly metricsPort: number
  readonly proxy: TcpProxy
}

/** What EXPLAIN says a statement will do: its tier, shards asked and edges pruned. */
interface Expected {
  readonly tier: string
  readonly asked: number
  readonly pruned: number
}

const QUERIES = [
  "SELECT count(*) AS n FROM logs WHERE host_name = 'node-m1'", // router: one shard holds node-m1
  'SELECT host_name, pid FROM logs LIMIT 5', // union
  'SELECT time, host_name FROM alerts ORDER BY time DESC LIMIT 5', // merge-sorted
  'SELECT count(*) AS n FROM alerts', // partial-aggregate
  'SELECT namespace_name, count(*) AS n FROM logs GROUP BY 1', // partial-aggregate
  'SELECT DISTINCT host_name FROM logs', // gather
  "SELECT count(*) AS n FROM logs WHERE time > now() + interval '1 day'", // every edge pruned by time
]

describe('Prometheus metrics of a gateway and its edges', () => {
  const dir = tempDir('fedgres-metrics-')
  const edges: Edge[] = []
  let gw: GatewayFixture
  let client: pg.Client

  async function startCliEdge(id: string, host: string): Promise<Edge> {
    const source = new KubeArmorEventSource({ hosts: [host], rate: 0, port: 0, limit: EVENTS })
    await source.start()
    const config = join(dir.path, `${id}.yaml`)
    writeFileSync(config, YAML.stringify({
      edge_id: id,
      data_dir: join(dir.path, id),
      sources: [{ address: source.address, health_interval: '5s' }],
      serve: { host: '127.0.0.1', port: 0, users: [{ name: EDGE_USER, scram: makeScramSecret(EDGE_PASSWORD) }] },
      metrics: { host: '127.0.0.1', port: 0 },
      synopsis: { publish_grace: 0 },
      log_level: 'info',
    }))
    const proc = startCli(['edge', '--config', config])
    const ready = await proc.waitForLog('edge agent ready').catch(async (e: unknown) => {
      proc.kill('SIGKILL')
      await source.stop() // after() only knows the edges that started
      throw e
    })
    const proxy = new TcpProxy({ host: '127.0.0.1', port: ready.servePort as number })
    await proxy.start()
    return { id, source, proc, metricsPort: ready.metricsPort as number, proxy }
  }

  const stored = async (e: Edge) => (await scrape(e.metricsPort)).sum('fedgres_edge_events_stored_total', 'counter')

  before(async () => {
    for (const [id, host] of [['edge-m1', 'node-m1'], ['edge-m2', 'node-m2']]) edges.push(await startCliEdge(id!, host!))
    await waitFor('edges subscribed', () => edges.every((e) => e.source.subscribers('logs') >= 1), 30_000)
    for (const e of edges) e.source.setRate(2000)
    await waitFor('every event stored', async () => (await Promise.all(edges.map(stored))).every((n) => n >= EVENTS), 60_000, 200)
    gw = await startTestGateway({
      discovery: { kind: 'static', edges: edges.map((e) => ({ edge_id: e.id, address: `127.0.0.1:${e.proxy.port}` })), synopsis_poll: 200 },
      edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD },
      metrics: { host: '127.0.0.1', port: 0 },
    })
    await waitFor('synopses known', () => gw.gateway.discovery!.current().edges.every((e) => e.synopsis !== null && e.status === 'passing'))
    client = new pg.Client({ host: '127.0.0.1', port: gw.port, user: gw.user, password: gw.password, database: gw.database })
    await client.connect()
  })
  after(async () => {
    await client?.end().catch(() => {})
    await gw?.stop()
    for (const e of edges) {
      e.proc.kill('SIGTERM')
      await e.proc.exited
      await e.proxy.close()
      await e.source.stop()
    }
    dir.dispose()
  })

  async function explain(sql: string): Promise<Expected> {
    const lines = (await client.query(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN'] as string)
    const total = (re: RegExp) => lines.reduce((s, l) => s + Number(re.exec(l)?.[1] ?? 0), 0)
    return { tier: /^Fedgres (\S+)$/.exec(lines[0]!)![1]!, asked: total(/Shards asked: (\d+)/), pruned: total(/Edges pruned: (\d+)/) }
  }

  /** Runs `sql` while edge-m2 is cut off; the client must see 08006 naming it. */
  async function failOnEdgeM2(sql: string): Promise<void> {
    edges[1]!.proxy.kill()
    try {
      await assert.rejects(client.query(sql), (e: Error & { code?: string }) => e.code === '08006' && /edge-m2/.test(e.message))
    } finally {
      edges[1]!.proxy.restore()
    }
    await waitFor('edge-m2 passing again', () => gw.gateway.discovery!.current().edges.every((e) => e.status === 'passing'), 10_000)
  }

  const timed = (s: Scrape, tier?: string) => s.observations('fedgres_gateway_query_seconds', tier ? { tier } : {})
  /** Scrapes until `n` more statements than in `before` are timed (a statement is timed when its result ends). */
  const scrapeAfter = (before: Scrape, n: number) =>
    waitFor('every statement timed', async () => {
      const s = await scrape(gw.gateway.metricsPort!)
      return timed(s) - timed(before) === n ? s : undefined
    }, 5000)

  test('gateway: statements are counted by tier and outcome, timed, and their edges asked and pruned', async () => {
    const plans = await Promise.all(QUERIES.map(explain)) // EXPLAIN plans without running: no counts
    assert.deepEqual([...new Set(plans.map((p) => p.tier))].sort(), ['gather', 'merge-sorted', 'partial-aggregate', 'router', 'union'], 'every tier is exercised')
    const before = await scrape(gw.gateway.metricsPort!)
    for (const sql of QUERIES) await client.query(sql)
    await client.query('SELECT 1') // a catalog statement is not a federated one
    const after = await scrapeAfter(before, QUERIES.length)

    const delta = (name: string, labels = {}) => after.sum(name, 'counter', labels) - before.sum(name, 'counter', labels)
    const want = new Map<string, number>()
    for (const p of plans) want.set(p.tier, (want.get(p.tier) ?? 0) + 1)
    for (const [tier, n] of want) {
      assert.equal(delta('fedgres_gateway_queries_total', { tier, outcome: 'ok' }), n, `${tier} statements that succeeded`)
      assert.equal(timed(after, tier) - timed(before, tier), n, `${tier} statements timed`)
    }
    assert.equal(delta('fedgres_gateway_queries_total'), QUERIES.length, 'the catalog statement is not counted')
    assert.equal(delta('fedgres_gateway_edges_asked_total'), plans.reduce((s, p) => s + p.asked, 0), 'shards asked, as EXPLAIN listed them')
    const pruned = plans.reduce((s, p) => s + p.pruned, 0)
    assert.ok(pruned >= 3, 'the router and time-range statements pruned edges')
    assert.equal(delta('fedgres_gateway_edges_pruned_total'), pruned, 'edges pruned, as EXPLAIN listed them')
    assert.equal(delta('fedgres_gateway_edge_errors_total'), 0)
  })

  test('gateway: a statement that an edge fails is counted as an edge error, against that edge', async () => {
    const sql = 'SELECT count(*) AS n FROM logs' // the aggregate waits for every edge before answering
    const plan = await explain(sql)
    const before = await scrape(gw.gateway.metricsPort!)
    await failOnEdgeM2(sql)
    const after = await scrapeAfter(before, 1)
    const delta = (name: string, labels = {}) => after.sum(name, 'counter', labels) - before.sum(name, 'counter', labels)
    assert.equal(delta('fedgres_gateway_queries_total', { tier: plan.tier, outcome: 'edge_error' }), 1)
    assert.equal(delta('fedgres_gateway_queries_total'), 1)
    assert.equal(delta('fedgres_gateway_edge_errors_total', { edge_id: 'edge-m2' }), 1)
    assert.equal(after.sum('fedgres_gateway_edge_errors_total', 'counter', { edge_id: 'edge-m1' }), 0)
    // edge-m2 is asked unless the view already knew it was down when the statement was planned.
    const asked = delta('fedgres_gateway_edges_asked_total')
    assert.ok(asked >= 1 && asked <= plan.asked, `asked ${asked} of ${plan.asked}`)
  })

  test('gateway: a statement refused because the view knows an edge is down is counted against that edge', async () => {
    const sql = 'SELECT count(*) AS n FROM logs'
    edges[1]!.proxy.kill()
    try {
      await waitFor('edge-m2 seen down', () => gw.gateway.discovery!.current().edges.some((e) => e.edgeId === 'edge-m2' && e.status === 'critical'), 10_000)
      const before = await scrape(gw.gateway.metricsPort!)
      await assert.rejects(client.query(sql), (e: Error & { code?: string }) => e.code === '08006' && /no healthy edge for shard edge-m2/.test(e.message))
      const after = await scrapeAfter(before, 1)
      const delta = (name: string, labels = {}) => after.sum(name, 'counter', labels) - before.sum(name, 'counter', labels)
      assert.equal(delta('fedgres_gateway_queries_total', { outcome: 'edge_error' }), 1)
      assert.equal(delta('fedgres_gateway_edge_errors_total', { edge_id: 'edge-m2' }), 1)
      assert.equal(delta('fedgres_gateway_edge_errors_total', { edge_id: 'edge-m1' }), 0)
    } finally {
      edges[1]!.proxy.restore()
    }
    await waitFor('edge-m2 passing again', () => gw.gateway.discovery!.current().edges.every((e) => e.status === 'passing'), 10_000)
  })

  test('gateway: a streamed statement that an edge fails is counted as an edge error', async () => {
    const sql = 'SELECT * FROM logs' // union: rows stream to the client as the edges send them
    const tier = (await explain(sql)).tier
    const before = await scrape(gw.gateway.metricsPort!)
    await failOnEdgeM2(sql)
    const after = await scrapeAfter(before, 1)
    const delta = (name: string, labels = {}) => after.sum(name, 'counter', labels) - before.sum(name, 'counter', labels)
    assert.equal(delta('fedgres_gateway_queries_total', { tier, outcome: 'ok' }), 0, 'the client got 08006, not a result')
    assert.equal(delta('fedgres_gateway_queries_total', { tier, outcome: 'edge_error' }), 1)
    assert.equal(delta('fedgres_gateway_edge_errors_total', { edge_id: 'edge-m2' }), 1)
  })

  test('gateway: gauges show the edge view and the open client connections', async () => {
    const s = await scrape(gw.gateway.metricsPort!)
    assert.equal(s.sum('fedgres_gateway_edges', 'gauge', { status: 'passing' }), 2)
    assert.equal(s.sum('fedgres_gateway_edges', 'gauge'), 2)
    assert.equal(s.sum('fedgres_gateway_view_stale', 'gauge'), 0)
    const age = s.sum('fedgres_gateway_synopsis_age_seconds', 'gauge')
    assert.ok(age >= 0 && age < 1.4, `synopses confirmed ${age} s ago`)
    assert.ok(s.sum('fedgres_gateway_client_connections', 'gauge') >= 1)
    assert.ok(s.sum('process_cpu_seconds_total', 'counter') > 0, "prom-client's process metrics are there too")
  })

  test('gateway: restarts of its local engine are counted by cause', async () => {
    const small = await startTestGateway({ metrics: { host: '127.0.0.1', port: 0 }, catalog: { max_result_mb: 1 } })
    const c = new pg.Client({ host: '127.0.0.1', port: small.port, user: small.user, password: small.password, database: small.database })
    await c.connect()
    try {
      // About 5 MB of rows against a limit of 1 MB: 54000, and the engine starts afresh.
      await assert.rejects(c.query("SELECT repeat('x', 1000) FROM generate_series(1, 5000)"), (e: Error & { code?: string }) => e.code === '54000')
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1)
      const s = await scrape(small.gateway.metricsPort!)
      assert.equal(s.sum('fedgres_gateway_engine_restarts_total', 'counter', { cause: 'result_limit' }), 1)
      assert.equal(s.sum('fedgres_gateway_engine_restarts_total', 'counter'), 1)
    } finally {
      await c.end()
      await small.stop()
    }
  })

  for (const [i, id] of ['edge-m1', 'edge-m2'].entries()) {
    test(`${id}: events received and stored per source and table, nothing dropped, spool drained`, async () => {
      const e = edges[i]!
      const s = await scrape(e.metricsPort)
      const received = s.values('fedgres_edge_events_received_total', 'counter')
      assert.deepEqual(new Set(received.map((r) => r.labels.source)), new Set([e.source.address]))
      assert.ok(received.every((r) => r.labels.edge_id === id), 'every sample is labelled with the edge')
      assert.equal(s.sum('fedgres_edge_events_received_total', 'counter'), EVENTS)
      for (const table of ['alerts', 'logs']) {
        const n = s.sum('fedgres_edge_events_stored_total', 'counter', { table })
        assert.ok(n > 0, `${table} stored`)
        assert.equal(n, s.sum('fedgres_edge_events_received_total', 'counter', { table }), `every received ${table} row is stored`)
        const viaGateway = Number((await client.query(`SELECT count(*) AS n FROM ${table} WHERE edge_id = $1`, [id])).rows[0].n)
        assert.equal(viaGateway, n, `the gateway counts the ${table} rows the edge says it stored`)
      }
      assert.equal(s.sum('fedgres_edge_events_dropped_total', 'counter'), 0)
      assert.equal(s.sum('fedgres_edge_spool_depth', 'gauge'), 0)
      const lastCommit = s.sum('fedgres_edge_last_commit_timestamp_seconds', 'gauge')
      assert.ok(lastCommit > Date.now() / 1000 - 600 && lastCommit <= Date.now() / 1000, `the last commit was this run's (${lastCommit})`)
      assert.equal(s.sum('fedgres_edge_source_connected', 'gauge', { source: e.source.address }), 1)
      assert.equal(s.sum('fedgres_edge_source_reconnects_total', 'counter', { source: e.source.address }), 0)
      assert.ok(s.sum('fedgres_edge_synopsis_publishes_total', 'counter', { outcome: 'ok' }) >= 1)
      const throttled = Number((await client.query("SELECT count(*) AS n FROM alerts WHERE operation = 'AlertThreshold' AND edge_id = $1", [id])).rows[0].n)
      assert.equal(s.sum('fedgres_edge_throttle_notices_total', 'counter', { source: e.source.address }), throttled, 'throttle notices, as stored')
    })

    test(`${id}: commit batches are timed`, async () => {
      const [h, ...more] = (await scrape(edges[i]!.metricsPort)).histograms('fedgres_edge_commit_batch_seconds', { edge_id: edges[i]!.id })
      assert.equal(more.length, 0)
      assert.ok(h!.count >= 1 && h!.count <= EVENTS, `batches: ${h!.count}`)
      assert.ok(h!.sum! > 0)
    })

    test(`${id}: the store size is reported`, async () => {
      const s = await scrape(edges[i]!.metricsPort)
      assert.ok(s.sum('fedgres_edge_store_bytes', 'gauge') > 100_000, 'a PGlite data dir holding events is larger than 100 kB')
    })
  }
})
