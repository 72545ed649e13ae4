/**
 * Static discovery against two native PostgreSQL servers standing in for two edges: each has a
 * `fedgres.synopsis` view (one row, `synopsis jsonb`) as an edge serves it. Checks the view,
 * the polling of a changed synopsis, and an edge that becomes unreachable (critical, last
 * synopsis kept, its time frozen) and then comes back. One edge is reached through a TCP proxy
 * that can cut it off, and over TLS.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { StaticDiscovery } from '../../gateway/discovery/static-discovery.js'
import { createDiscovery } from '../../gateway/discovery/index.js'
import type { EdgeView } from '../../gateway/discovery/edge-view.js'
import { gatewayConfigSchema } from '../../gateway/config.js'
import type { Synopsis } from '../../schema/synopsis.js'
import { captureLogger } from '../helpers/capture-logger.js'
import { freePort } from '../helpers/free-port.js'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'
import { sleep, waitFor } from '../helpers/wait.js'

const POLL_MS = 200

function synopsis(edgeId: string, version: number, hosts: string[] = []): Synopsis {
  const table = { rows: 0, minTime: null, maxTime: null, values: { cluster_name: [], host_name: hosts, namespace_name: [], tags: [] } }
  return { edgeId, version, publishedAt: new Date().toISOString(), schemaVersion: 1, tables: { alerts: table, logs: table } }
}

/** A TCP pass-through that can cut the edge off (existing connections and new ones). */
async function tcpProxy(targetPort: number): Promise<{ port: number; setDown(down: boolean): void; close(): Promise<void> }> {
  let down = false
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    if (down) {
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    setDown(d) {
      down = d
      if (d) for (const s of sockets) s.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

async function setSynopsis(pg: NativePg, s: Synopsis | null): Promise<void> {
  await pg.pool().query('UPDATE fedgres.synopsis_src SET synopsis = $1::jsonb', [s === null ? null : JSON.stringify(s)])
}

const edgeOf = (v: EdgeView, id: string) => v.edges.find((e) => e.edgeId === id)!

let pg1: NativePg
let pg2: NativePg

before(async () => {
  // The edge's view, as the edge serves it: one row, NULL until something is published.
  const ddl = `CREATE SCHEMA fedgres;
    CREATE TABLE fedgres.synopsis_src (synopsis jsonb);
    INSERT INTO fedgres.synopsis_src VALUES (NULL);
    CREATE VIEW fedgres.synopsis AS SELECT synopsis FROM fedgres.synopsis_src;`
  ;[pg1, pg2] = await Promise.all([startNativePostgres({ database: 'fedgres' }), startNativePostgres({ database: 'fedgres', tls: true })])
  await Promise.all([pg1.pool().query(ddl), pg2.pool().query(ddl)])
})

after(async () => {
  await Promise.all([pg1?.stop(), pg2?.stop()])
})

describe('StaticDiscovery', () => {
  test('view, synopsis polling, and an unreachable edge that comes back', async () => {
    const { log, entries } = captureLogger()
    const proxy = await tcpProxy(pg2.port)
    const dead = await freePort()
    await setSynopsis(pg2, synopsis('s2', 1, ['h1']))
    const d = new StaticDiscovery({
      edges: [
        { edge_id: 's1', address: `127.0.0.1:${pg1.port}`, cluster: 'c1', tags: ['zone-a'] },
        { edge_id: 's2', address: `127.0.0.1:${proxy.port}`, shard: 'shard-2', tls: true },
        { edge_id: 's3', address: `127.0.0.1:${dead}` },
      ],
      pollMs: POLL_MS,
      credentials: { user: pg1.user, password: pg1.password },
      log,
    })
    const changes: EdgeView[] = []
    d.onChange((v) => changes.push(v))
    try {
      const first = await d.ready(15_000)
      const s1 = edgeOf(first, 's1')
      assert.deepEqual(
        { host: s1.host, port: s1.port, shard: s1.shard, cluster: s1.cluster, tags: s1.tags, status: s1.status, synopsis: s1.synopsis, tls: s1.tls },
        { host: '127.0.0.1', port: pg1.port, shard: 's1', cluster: 'c1', tags: ['zone-a'], status: 'passing', synopsis: null, tls: false },
      )
      assert.equal(edgeOf(first, 's2').status, 'passing', 'TLS edge reached')
      assert.equal(edgeOf(first, 's2').shard, 'shard-2')
      assert.equal(edgeOf(first, 's2').synopsis?.version, 1)
      assert.equal(edgeOf(first, 's3').status, 'critical')
      assert.equal(edgeOf(first, 's3').synopsisCurrentAt, 0)
      assert.equal(first.stale, false)

      // A changed synopsis shows within a couple of polls.
      const t0 = Date.now()
      await setSynopsis(pg1, synopsis('s1', 3, ['a', 'b']))
      const seen: EdgeView = await waitFor('the new synopsis of s1', () => (edgeOf(d.current(), 's1').synopsis?.version === 3 ? d.current() : undefined), 5000, 10)
      assert.ok(Date.now() - t0 < POLL_MS * 3 + 500, `seen after ${Date.now() - t0} ms`)
      assert.deepEqual(edgeOf(seen, 's1').synopsis?.tables.logs.values.host_name, ['a', 'b'])
      assert.equal(edgeOf(seen, 's1').schemaVersion, 1, 'from the synopsis')
      assert.ok(changes.some((v) => edgeOf(v, 's1').synopsis?.version === 3), 'listeners told')
      const at = edgeOf(d.current(), 's1').synopsisCurrentAt
      await waitFor('synopsisCurrentAt to advance', () => edgeOf(d.current(), 's1').synopsisCurrentAt > at, 3000, 20)

      // s2 is cut off: critical, last synopsis kept, its time frozen; then it comes back.
      proxy.setDown(true)
      await waitFor('s2 critical', () => edgeOf(d.current(), 's2').status === 'critical', 10_000, 20)
      const cut = edgeOf(d.current(), 's2')
      assert.equal(cut.synopsis?.version, 1, 'last synopsis kept')
      await sleep(POLL_MS * 3)
      assert.equal(edgeOf(d.current(), 's2').synopsisCurrentAt, cut.synopsisCurrentAt, 'time frozen while unreachable')
      assert.equal(edgeOf(d.current(), 's1').status, 'passing', 'other edges unaffected')
      const warns = entries.filter((e) => e['level'] === 'warn' && e['edgeId'] === 's2')
      assert.equal(warns.length, 1, 'one warning per outage')
      await setSynopsis(pg2, synopsis('s2', 2, ['h1', 'h2']))
      proxy.setDown(false)
      await waitFor('s2 back with its new synopsis', () => {
        const e = edgeOf(d.current(), 's2')
        return e.status === 'passing' && e.synopsis?.version === 2
      }, 10_000, 20)
      assert.ok(Date.now() - edgeOf(d.current(), 's2').synopsisCurrentAt < POLL_MS * 3 + 1000)
      assert.ok(entries.some((e) => e['level'] === 'info' && e['edgeId'] === 's2' && /reachable again/.test(String(e['message']))))

      // A synopsis that is not this edge's is not used (never pruning is always safe).
      await setSynopsis(pg1, synopsis('someone-else', 9))
      await waitFor('s1 without a synopsis', () => edgeOf(d.current(), 's1').synopsis === null, 5000, 20)
      assert.equal(edgeOf(d.current(), 's1').status, 'passing')
    } finally {
      await d.close()
      await proxy.close()
    }
    const versions = changes.map((v) => v.version)
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions increase')
  })

  test('a busy edge (its synopsis read waits behind a long statement) stays usable for as long as it accepts connections', async () => {
    const { log } = captureLogger()
    await setSynopsis(pg1, synopsis('s1', 3, ['h1']))
    const d = new StaticDiscovery({ edges: [{ edge_id: 's1', address: `127.0.0.1:${pg1.port}` }], pollMs: POLL_MS, credentials: { user: pg1.user, password: pg1.password }, log })
    const holder = await pg1.pool().connect()
    try {
      await d.ready(5000)
      assert.equal(edgeOf(d.current(), 's1').status, 'passing')
      // A statement holding what the synopsis read needs, for longer than three polls' timeouts (2 s each).
      await holder.query('BEGIN')
      await holder.query('LOCK TABLE fedgres.synopsis_src IN ACCESS EXCLUSIVE MODE')
      await waitFor('s1 busy', () => edgeOf(d.current(), 's1').status === 'warning', 5000, 20)
      const statuses = new Set<string>()
      for (const until = Date.now() + 7000; Date.now() < until; await sleep(50)) statuses.add(edgeOf(d.current(), 's1').status)
      assert.deepEqual([...statuses], ['warning'], 'never critical while it accepts connections')
      assert.equal(edgeOf(d.current(), 's1').synopsis?.version, 3, 'its last synopsis kept')
      await holder.query('ROLLBACK')
      await waitFor('s1 passing again', () => edgeOf(d.current(), 's1').status === 'passing', 5000, 20)
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined)
      holder.release()
      await d.close()
    }
  })

  test('createDiscovery builds the static kind from the gateway config', async () => {
    const { log } = captureLogger()
    const cfg = gatewayConfigSchema.parse({
      users: [{ name: 'u', scram: 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy' }],
      edge_credentials: { user: pg1.user, password: pg1.password },
      discovery: { kind: 'static', edges: [{ edge_id: 's1', address: `127.0.0.1:${pg1.port}` }], synopsis_poll: '100ms' },
    })
    await setSynopsis(pg1, synopsis('s1', 7))
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
    const before = sockets()
    const d = createDiscovery(cfg, log)
    try {
      assert.ok(d instanceof StaticDiscovery)
      const v = await d.ready(10_000)
      assert.equal(edgeOf(v, 's1').status, 'passing')
      assert.equal(edgeOf(v, 's1').synopsis?.version, 7)
    } finally {
      await d.close()
    }
    // Other sockets of this process (the fixture's own) may close meanwhile, never open: a leak
    // shows as more sockets than before.
    for (let i = 0; i < 40 && sockets() > before; i++) await sleep(50)
    assert.ok(sockets() <= before, `close() leaves no connection open: ${sockets()} TCP sockets now, ${before} before`)
  })
})
