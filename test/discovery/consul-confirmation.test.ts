/**
 * The gateway's Consul discovery vouches for its synopses only as far as Consul confirmed them
 * (common/consul/index-confirmation.ts). A KV poll parked in Consul proves nothing once its
 * connection is dead or Consul will not answer it, so the edge's rows must not be pruned by a
 * synopsis the edge has since widened: once the edge's publish grace is over, the old synopsis
 * is either replaced in the view or too old for the planner (SYNOPSIS_MAX_AGE_MS).
 * Against the project's Consul test server, behind a TCP proxy that fails connections on cue.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { EdgeView } from '../../gateway/discovery/edge-view.js'
import { ConsulDiscovery } from '../../gateway/discovery/consul-discovery.js'
import { ConsulRegistration } from '../../edge-agent/registry/consul-registration.js'
import { PUBLISH_GRACE_MS, SYNOPSIS_MAX_AGE_MS, type Synopsis } from '../../schema/synopsis.js'
import { startConsulTestServer, type ConsulTestServer } from '../consul/consul-test-server.js'
import { captureLogger } from '../helpers/capture-logger.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { sleep, waitFor } from '../helpers/wait.js'

/** Long, so that no poll is rescued by its own timeout within a test. */
const WAIT_MS = 20_000

function synopsis(version: number): Synopsis {
  const table = { rows: version, minTime: null, maxTime: null, values: { cluster_name: [], host_name: [`host-${version}`], namespace_name: [], tags: [] } }
  return { edgeId: 'c-a', version, publishedAt: new Date().toISOString(), schemaVersion: 1, tables: { alerts: table, logs: table } }
}

const edge = (v: EdgeView) => v.edges.find((e) => e.edgeId === 'c-a')

/**
 * Samples the view every 10 ms from a publish of `version` until the view holds it, and fails if
 * the planner could ever have pruned with an older synopsis after the edge's grace: that is when
 * the edge commits rows only the new one covers. Resolves with ms from publish to the view.
 */
async function exactUntilSeen(d: ConsulDiscovery, version: number, publishedAt: number, timeoutMs: number): Promise<number> {
  for (;;) {
    const now = Date.now()
    const e = edge(d.current())!
    if (e.synopsis?.version === version) return now - publishedAt
    if (now - publishedAt > PUBLISH_GRACE_MS) {
      assert.ok(now - e.synopsisCurrentAt > SYNOPSIS_MAX_AGE_MS, `${now - publishedAt} ms after the publish, version ${e.synopsis?.version} still counts as current (confirmed ${now - e.synopsisCurrentAt} ms ago)`)
    }
    assert.ok(now - publishedAt < timeoutMs, `version ${version} not in the view within ${timeoutMs} ms`)
    await sleep(10)
  }
}

describe('ConsulDiscovery confirms its synopses while its KV poll is parked', () => {
  let server: ConsulTestServer
  let proxy: TcpProxy
  let reg: ConsulRegistration
  let d: ConsulDiscovery
  const { log, entries } = captureLogger()
  let version = 1

  before(async () => {
    server = await startConsulTestServer({ waitJitter: false })
    proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) })
    await proxy.start()
    reg = new ConsulRegistration({
      edgeId: 'c-a', address: '127.0.0.1', port: 7001, shard: 'c-a', cluster: 'prod', schemaVersion: 1, nodeTags: [],
      ttlMs: 10_000, deregisterAfterMs: 60_000, consul: { address: server.url }, log,
    })
    await reg.start()
    await reg.publish(synopsis(version))
    d = new ConsulDiscovery({ consul: { address: `http://127.0.0.1:${proxy.port}`, requestTimeoutMs: 2000 }, waitMs: WAIT_MS, log })
    await waitFor('the synopsis in the view', () => edge(d.current())?.synopsis?.version === version, 10_000)
  })

  after(async () => {
    await d.close()
    await reg.close()
    await proxy.close()
    await server.close()
  })

  /** Until both polls are parked in the server and the view is confirmed within the last 0.5 s. */
  const settled = () => waitFor('parked and confirmed', () => server.blockedQueries >= 2 && Date.now() - edge(d.current())!.synopsisCurrentAt < 500, 10_000, 20)

  test('a quiet Consul: probes, not new polls, keep the synopsis current', async () => {
    await settled()
    const before = d.requests
    let worst = 0
    for (const end = Date.now() + 2000; Date.now() < end; await sleep(20)) worst = Math.max(worst, Date.now() - edge(d.current())!.synopsisCurrentAt)
    const after = d.requests
    assert.equal(after.kv, before.kv, 'the KV poll stayed parked')
    assert.ok(after.kvProbes - before.kvProbes >= 3, `${after.kvProbes - before.kvProbes} probes in 2 s`)
    assert.ok(worst < SYNOPSIS_MAX_AGE_MS * 0.8, `confirmed at worst ${worst} ms ago`)
  })

  test('the parked poll\'s connection goes silent: a widened synopsis reaches the view by a fresh read, and the old one is never current past the grace', async () => {
    await settled()
    proxy.freezeOpen()
    const at = Date.now()
    await reg.publish(synopsis(++version))
    const ms = await exactUntilSeen(d, version, at, 5000)
    assert.ok(ms < 3000, `seen after ${ms} ms`)
    assert.ok(entries.some((e) => /reads the full state again/.test(String(e['message'])) && /not answered/.test(String(e['reason']))))
  })

  test('Consul\'s index goes back under a parked poll (a snapshot restore as the poll was on its way): the next change is not missed', async () => {
    await settled()
    const held = server.index
    // The watch's next poll reaches Consul only after the restore, with an index above Consul's:
    // Consul holds it until its index passes the old one, and the change below never does.
    server.setLatency(300)
    server.wakeBlockedQueries()
    await sleep(100)
    server.resetIndex(Math.max(1, held - 20))
    server.setLatency(0)
    await sleep(400)
    const at = Date.now()
    await reg.publish(synopsis(++version))
    assert.ok(server.index < held, 'the change does not take the index past the parked poll\'s')
    const ms = await exactUntilSeen(d, version, at, 5000)
    assert.ok(ms < 3000, `seen after ${ms} ms`)
    assert.ok(entries.some((e) => /reads the full state again/.test(String(e['message'])) && /went back/.test(String(e['reason']))))
  })

  test('Consul silent on every connection: the synopsis stops counting as current within its max age; confirmed again after', async () => {
    await settled()
    proxy.hang()
    try {
      await sleep(SYNOPSIS_MAX_AGE_MS + 300)
      const e = edge(d.current())!
      assert.ok(Date.now() - e.synopsisCurrentAt > SYNOPSIS_MAX_AGE_MS, `confirmed ${Date.now() - e.synopsisCurrentAt} ms ago while Consul answers nothing`)
      assert.equal(e.synopsis?.version, version, 'the last good synopsis is kept')
    } finally {
      proxy.restore()
    }
    await waitFor('confirmed again', () => Date.now() - edge(d.current())!.synopsisCurrentAt < 500, 10_000, 20)
  })

  test('the parked health poll\'s connection goes silent: an edge that comes up meanwhile is seen passing, by a fresh read, within seconds', async () => {
    await settled()
    proxy.freezeOpen()
    const other = new ConsulRegistration({
      edgeId: 'c-b', address: '127.0.0.1', port: 7002, shard: 'c-b', cluster: 'prod', schemaVersion: 1, nodeTags: [],
      ttlMs: 10_000, deregisterAfterMs: 60_000, consul: { address: server.url }, log,
    })
    const at = Date.now()
    try {
      await other.start()
      // Its membership record (KV) puts it in the view at once; only the health watch can say it passes.
      await waitFor('c-b passing in the view', () => d.current().edges.find((e) => e.edgeId === 'c-b')?.status === 'passing', 8000, 20)
      const ms = Date.now() - at
      assert.ok(ms < 6000, `seen passing after ${ms} ms (the frozen poll would have waited ${WAIT_MS} ms)`)
      assert.ok(d.requests.healthProbes > 0)
      assert.ok(entries.some((e) => e['watch'] === 'health' && /not answered/.test(String(e['reason']))))
    } finally {
      await other.close()
    }
  })
})
