/**
 * Discovery with live edges: through Consul (the repo's Consul-API-compatible test server), a
 * Consul outage leaves queries running on the last good view; a stopped edge fails the statements
 * that need it, on a gateway started after it stopped too, until `fedgres decommission`; and the write-ahead rule holds: a
 * row whose value the edge first published later is never pruned away once committed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import pg from 'pg'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { startConsulTestServer } from '../consul/consul-test-server.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { freePort } from '../helpers/free-port.js'
import { startTestGateway } from '../helpers/gateway-fixture.js'
import { EDGE_PASSWORD, EDGE_USER } from '../helpers/mini-federation.js'
import { sleep, waitFor } from '../helpers/wait.js'

const log = rootLogger('test', process.env.LOG_LEVEL ?? 'error')
const serveUsers = [{ name: EDGE_USER, scram: makeScramSecret(EDGE_PASSWORD) }]
const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {})
})

async function count(port: number, sql: string, user = 'analyst', password = 'analyst-secret'): Promise<number> {
  const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'fedgres' })
  await c.connect()
  try {
    return Number((await c.query(sql)).rows[0]!.n)
  } finally {
    await c.end()
  }
}

/** `fedgres decommission` as an operator runs it (a child process: the test's Consul server must keep answering). */
function decommission(edgeId: string, consulUrl: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const main = fileURLToPath(new URL('../../cli/main.js', import.meta.url))
  return new Promise((resolve) => {
    execFile(process.execPath, [main, 'decommission', '--edge-id', edgeId, '--consul', consulUrl], (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('discovery with live edges', () => {
  test('edges register in Consul; a Consul outage leaves queries running on the last view', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedgres-consul-'))
    const consul = await startConsulTestServer({ reapInterval: 200, minDeregisterAfter: 1000 })
    cleanups.push(async () => {
      await consul.close()
      rmSync(dir, { recursive: true, force: true })
    })
    const edges: RunningEdge[] = []
    /** Each edge's stop, once (a test stops one itself). */
    const stops: (() => Promise<void>)[] = []
    const sources: KubeArmorEventSource[] = []
    for (const host of ['c-1', 'c-2']) {
      const src = new KubeArmorEventSource({ hosts: [host], rate: 0, port: 0, limit: 300 })
      sources.push(src)
      await src.start()
      cleanups.push(() => src.stop())
      const cfg = edgeConfig(join(dir, host), [src.address], {
        edge_id: `edge-${host}`,
        serve: { host: '127.0.0.1', port: 0, users: serveUsers },
        consul: { address: consul.url, ttl: '2s', deregister_after: '1m' },
      })
      const e = await startEdge(cfg, log)
      edges.push(e)
      let stopped: Promise<void> | undefined
      stops.push(() => (stopped ??= e.stop()))
      cleanups.push(() => stops[stops.length - 1]!())
    }
    await waitFor('edges subscribed', () => sources.every((s) => s.subscribers('logs') > 0))
    for (const s of sources) s.setRate(1000)
    const gw = await startTestGateway({ discovery: { kind: 'consul', address: consul.url, wait: '2s' }, edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD } })
    cleanups.push(() => gw.stop())
    const discovery = gw.gateway.discovery!
    await waitFor('both edges discovered with synopses', () => discovery.current().edges.filter((e) => e.synopsis && e.status === 'passing').length === 2, 20_000)
    await waitFor('events stored', async () => (await count(gw.port, 'SELECT count(*) AS n FROM logs')) > 0)
    await sleep(1500) // sources finish their 300 events
    const before = await count(gw.port, 'SELECT count(*) AS n FROM logs')
    assert.equal(await count(gw.port, "SELECT count(*) AS n FROM fedgres.edges WHERE status = 'passing'"), 2)

    await consul.setDown(true, 'refuse')
    await waitFor('view marked stale', () => discovery.current().stale, 10_000)
    assert.equal(discovery.current().edges.length, 2)
    assert.equal(await count(gw.port, 'SELECT count(*) AS n FROM logs'), before)
    assert.equal(await count(gw.port, "SELECT count(*) AS n FROM logs WHERE host_name = 'c-1'"), await count(gw.port, "SELECT count(*) AS n FROM logs WHERE edge_id = 'edge-c-1'"))
    await consul.setDown(false)
    await waitFor('view current again', () => !discovery.current().stale, 10_000)

    // An edge that leaves Consul (stopped, so deregistered) makes its shard unavailable: statements
    // that need it fail naming it, rather than answer without its rows.
    const onC2 = await count(gw.port, "SELECT count(*) AS n FROM logs WHERE host_name = 'c-2'")
    await stops[0]!()
    await waitFor('edge-c-1 critical', () => discovery.current().edges.find((e) => e.edgeId === 'edge-c-1')?.status === 'critical', 10_000)
    await assert.rejects(count(gw.port, 'SELECT count(*) AS n FROM logs'), (e: Error & { code?: string }) => e.code === '08006' && /edge-c-1/.test(e.message))
    assert.equal(await count(gw.port, "SELECT count(*) AS n FROM logs WHERE host_name = 'c-2'"), onC2, 'a statement its synopsis prunes still answers')

    // A gateway started now never saw edge-c-1 pass; its membership record in KV still tells it
    // that the edge holds rows, so the same statement fails the same way.
    const gw2 = await startTestGateway({ discovery: { kind: 'consul', address: consul.url, wait: '2s' }, edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD } })
    cleanups.push(() => gw2.stop())
    await assert.rejects(count(gw2.port, 'SELECT count(*) AS n FROM logs'), (e: Error & { code?: string }) => e.code === '08006' && /edge-c-1/.test(e.message))
    assert.equal(await count(gw2.port, "SELECT count(*) AS n FROM fedgres.edges WHERE status = 'critical' AND edge_id = 'edge-c-1'"), 1)
    assert.equal(await count(gw2.port, "SELECT count(*) AS n FROM logs WHERE host_name = 'c-2'"), onC2)

    // Taken away for good with the CLI: both gateways answer from the edges that remain.
    const cli = await decommission('edge-c-1', consul.url)
    assert.equal(cli.status, 0, cli.stderr)
    assert.match(cli.stdout, /edge edge-c-1 decommissioned; deleted from Consul KV: .*fedgres\/edges\/edge-c-1\/member/)
    for (const g of [gw, gw2]) await waitFor('edge-c-1 out of the view', () => !g.gateway.discovery!.current().edges.some((e) => e.edgeId === 'edge-c-1'), 10_000)
    assert.equal(await count(gw2.port, 'SELECT count(*) AS n FROM logs'), onC2)
    const again = await decommission('edge-c-2', consul.url)
    assert.equal(again.status, 1, 'a passing edge is refused')
    assert.match(again.stderr, /edge edge-c-2 is still registered in Consul \(service fedgres-edge\): stop its agent/)
  })

  test('a gateway that has never reached Consul answers statements over the events with 08006, not as empty tables', async () => {
    const dead = await freePort()
    const gw = await startTestGateway({ discovery: { kind: 'consul', address: `http://127.0.0.1:${dead}`, wait: '2s' }, edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD } })
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: gw.user, password: gw.password, database: gw.database })
    await c.connect()
    try {
      for (const sql of ['SELECT count(*) FROM logs', 'SELECT time FROM alerts ORDER BY time DESC LIMIT 5', 'SELECT count(DISTINCT pid) FROM logs']) {
        await assert.rejects(c.query(sql), (e: Error & { code?: string }) => e.code === '08006' && /no view of the edges/.test(e.message), sql)
      }
      // The view itself still answers (no edge), and so does the catalog.
      assert.equal((await c.query('SELECT count(*)::int AS n FROM fedgres.edges')).rows[0].n, 0)
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1)
    } finally {
      await c.end()
      await gw.stop()
    }
  })

  test('write-ahead: a host that appears after the first publish is never pruned once its rows are committed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedgres-wal-'))
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    const early = new KubeArmorEventSource({ hosts: ['early-host'], rate: 200, port: 0 })
    await early.start()
    cleanups.push(() => early.stop())
    const latePort = await freePort()
    const cfg = edgeConfig(join(dir, 'edge'), [early.address, `127.0.0.1:${latePort}`], {
      edge_id: 'edge-wal',
      serve: { host: '127.0.0.1', port: 0, users: serveUsers },
      // The grace must exceed the gateways' synopsis delay (here a 200 ms poll).
      synopsis: { publish_grace: '800ms' },
    })
    const edge = await startEdge(cfg, log)
    cleanups.push(() => edge.stop())
    const other = new KubeArmorEventSource({ hosts: ['other-host'], rate: 100, port: 0 })
    await other.start()
    cleanups.push(() => other.stop())
    const otherEdge = await startEdge(edgeConfig(join(dir, 'other'), [other.address], { edge_id: 'edge-other', serve: { host: '127.0.0.1', port: 0, users: serveUsers } }), log)
    cleanups.push(() => otherEdge.stop())
    const gw = await startTestGateway({
      discovery: { kind: 'static', edges: [{ edge_id: 'edge-wal', address: `127.0.0.1:${edge.servePort}` }, { edge_id: 'edge-other', address: `127.0.0.1:${otherEdge.servePort}` }], synopsis_poll: 200 },
      edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD },
    })
    cleanups.push(() => gw.stop())
    const sql = "SELECT count(*) AS n FROM logs WHERE host_name = 'late-host'"
    await waitFor('synopses known', () => gw.gateway.discovery!.current().edges.every((e) => e.synopsis !== null))
    assert.equal(await count(gw.port, sql), 0)
    // The late host's KubeArmor comes up now; the edge reconnects and stores its events.
    const late = new KubeArmorEventSource({ hosts: ['late-host'], rate: 300, port: latePort })
    await late.start()
    cleanups.push(() => late.stop())
    let seen = 0
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline && seen < 200) {
      const direct = await count(edge.servePort, sql, EDGE_USER, EDGE_PASSWORD)
      const through = await count(gw.port, sql)
      assert.ok(through >= direct, `gateway saw ${through} late-host rows while the edge had ${direct} committed before the query`)
      seen = direct
      await sleep(50)
    }
    assert.ok(seen > 0, 'late-host rows were stored')
  })
})
