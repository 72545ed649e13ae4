/**
 * The gateway's Consul discovery against the project's Consul test server, with edges that
 * register through ConsulRegistration (or plain register calls): the joined view, how fast a
 * published synopsis shows, TTL expiry, edges recorded in KV while down and their decommissioning, outages (stale view, synopsis time frozen), index reset
 * and zero index, the rate limit under KV churn (counted by a proxy), and a clean close.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type winston from 'winston'
import { nextIndex } from '../../common/consul/blocking-watch.js'
import { ConsulClient } from '../../common/consul/consul-client.js'
import { TokenBucket } from '../../common/consul/rate-limiter.js'
import { ConsulRegistration } from '../../edge-agent/registry/consul-registration.js'
import { ConsulDiscovery } from '../../gateway/discovery/consul-discovery.js'
import type { EdgeView } from '../../gateway/discovery/edge-view.js'
import { decommissionEdge } from '../../edge-agent/registry/decommission.js'
import { memberKey } from '../../schema/membership.js'
import { SYNOPSIS_MAX_AGE_MS, synopsisKey, type Synopsis } from '../../schema/synopsis.js'
import { startConsulTestServer, type ConsulTestServer } from '../consul/consul-test-server.js'
import { captureLogger } from '../helpers/capture-logger.js'
import { sleep, waitFor } from '../helpers/wait.js'

const TTL_MS = 1500
const WAIT_MS = 2000

function synopsis(edgeId: string, version: number, hosts: string[] = []): Synopsis {
  const table = { rows: 0, minTime: null, maxTime: null, values: { cluster_name: [], host_name: hosts, namespace_name: [], tags: [] } }
  return { edgeId, version, publishedAt: new Date().toISOString(), schemaVersion: 1, tables: { alerts: table, logs: table } }
}

/** A pass-through HTTP proxy that logs every request, to count a watch's polls from outside. */
async function countingProxy(target: string): Promise<{ url: string; log: { path: string; at: number }[]; close(): Promise<void> }> {
  const to = new URL(target)
  const log: { path: string; at: number }[] = []
  const server = http.createServer((req, res) => {
    log.push({ path: new URL(req.url ?? '/', to).pathname, at: Date.now() })
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers)
      ur.pipe(res)
    })
    up.on('error', () => res.destroy())
    // A client that gives up (an aborted long poll) must not leave the upstream request open.
    res.on('close', () => up.destroy())
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

let server: ConsulTestServer
let writer: ConsulClient

const edgeOf = (view: EdgeView, id: string) => view.edges.find((e) => e.edgeId === id)

function register(edgeId: string, log: winston.Logger, port: number): ConsulRegistration {
  return new ConsulRegistration({
    edgeId, address: '127.0.0.1', port, shard: `shard-${edgeId}`, cluster: 'prod', schemaVersion: 1, nodeTags: ['zone-a'],
    ttlMs: TTL_MS, deregisterAfterMs: 60_000, consul: { address: server.url }, log,
  })
}

/** Edges that stop passing stay (critical) for DEPARTED_MS, short here. */
const DEPARTED_MS = 1500

function discovery(log: winston.Logger, address = server.url): ConsulDiscovery {
  return new ConsulDiscovery({ consul: { address }, waitMs: WAIT_MS, departedGraceMs: DEPARTED_MS, log })
}

/** Resolves with the first view (current or coming) that satisfies `accept`. */
function viewWhere(d: ConsulDiscovery, what: string, accept: (v: EdgeView) => boolean, timeoutMs = 10_000): Promise<EdgeView> {
  const now = d.current()
  if (accept(now)) return Promise.resolve(now)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a view with ${what}; last: ${JSON.stringify(d.current().edges.map((e) => [e.edgeId, e.synopsis?.version]))} stale=${d.current().stale}`))
    }, timeoutMs)
    const off = d.onChange((v) => {
      if (!accept(v)) return
      clearTimeout(timer)
      off()
      resolve(v)
    })
  })
}

before(async () => {
  server = await startConsulTestServer({ reapInterval: 50, minDeregisterAfter: 1000 })
  writer = new ConsulClient({ address: server.url })
})

after(async () => {
  await writer.close()
  await server.close()
})

describe('Consul index rules and rate limiter', () => {
  test('nextIndex follows docs/consul.md §3.8', () => {
    assert.deepEqual(nextIndex(0, 7), { index: 7, changed: true })
    assert.deepEqual(nextIndex(7, 9), { index: 9, changed: true })
    assert.deepEqual(nextIndex(9, 9), { index: 9, changed: false }, 'equal: a timeout')
    assert.deepEqual(nextIndex(9, 4), { index: 0, changed: true }, 'backwards: reset to 0')
    assert.deepEqual(nextIndex(9, 0), { index: 1, changed: true }, 'zero: never 0, use 1')
    assert.deepEqual(nextIndex(0, 0), { index: 1, changed: true })
  })

  test('the token bucket allows a burst of 2, then one per refill period', () => {
    let now = 0
    const b = new TokenBucket({ burst: 2, refillMs: 100, now: () => now })
    assert.ok(b.tryTake())
    assert.ok(b.tryTake())
    assert.ok(!b.tryTake())
    assert.equal(b.delay(), 100)
    now = 50
    assert.ok(!b.tryTake())
    now = 100
    assert.ok(b.tryTake())
    now = 10_000
    assert.ok(b.tryTake() && b.tryTake() && !b.tryTake(), 'never more than the burst')
  })
})

describe('ConsulDiscovery', () => {
  const regs: ConsulRegistration[] = []
  let d: ConsulDiscovery
  const { log, entries } = captureLogger()

  before(async () => {
    regs.push(register('d-a', log, 7001), register('d-b', log, 7002))
    await Promise.all(regs.map((r) => r.start()))
    await Promise.all(regs.map((r, i) => r.publish(synopsis(r.edgeId, 1, [`host-${i}`]))))
    d = discovery(log)
  })

  after(async () => {
    await d.close()
    await Promise.all(regs.map((r) => r.close()))
  })

  test('the view lists the passing edges with Meta and synopsis', async () => {
    const ready = await d.ready(10_000)
    const view = await viewWhere(d, 'both edges', (v) => !v.stale && v.edges.length === 2)
    assert.ok(ready.version >= 1)
    const a = edgeOf(view, 'd-a')!
    assert.equal(a.host, '127.0.0.1')
    assert.equal(a.port, 7001)
    assert.equal(a.shard, 'shard-d-a')
    assert.equal(a.cluster, 'prod')
    assert.deepEqual(a.tags, ['zone-a'])
    assert.equal(a.schemaVersion, 1)
    assert.equal(a.status, 'passing')
    assert.equal(a.tls, false)
    assert.deepEqual(a.synopsis?.tables.logs.values.host_name, ['host-0'])
    assert.ok(Date.now() - a.synopsisCurrentAt < SYNOPSIS_MAX_AGE_MS / 2, 'a healthy watch keeps the synopsis confirmed')
  })

  test('a published synopsis is in the view within 300 ms', async () => {
    for (let v = 2; v <= 4; v++) {
      const t0 = Date.now()
      await regs[0]!.publish(synopsis('d-a', v, ['host-0', `new-${v}`]))
      const view = await viewWhere(d, `d-a at version ${v}`, (x) => edgeOf(x, 'd-a')?.synopsis?.version === v, 5000)
      const ms = Date.now() - t0
      assert.ok(ms < 300, `visible after ${ms} ms`)
      assert.deepEqual(edgeOf(view, 'd-a')!.synopsis!.tables.alerts.values.host_name, ['host-0', `new-${v}`])
      await sleep(150)
    }
  })

  test('an edge whose TTL expires stays in the view as critical for its grace, then leaves it; its synopsis is kept for its return', async () => {
    // Plain register calls and one pass, then no heartbeat.
    const ttl = new ConsulClient({ address: server.url })
    try {
      await ttl.registerService({
        id: 'edge-d-ttl', name: 'fedgres-edge', address: '', port: 7003, tags: [], meta: { edge_id: 'd-ttl', shard: 'x' },
        check: { checkId: 'edge-d-ttl:ttl', name: 'ttl', ttlMs: 1000, deregisterAfterMs: 60_000, status: 'critical' },
      })
      assert.equal(await ttl.kvPut(synopsisKey('d-ttl'), JSON.stringify(synopsis('d-ttl', 5))), true)
      await ttl.updateTtlCheck('edge-d-ttl:ttl', 'passing', 'ok')
      const joined = await viewWhere(d, 'd-ttl', (v) => edgeOf(v, 'd-ttl')?.synopsis?.version === 5)
      assert.equal(edgeOf(joined, 'd-ttl')!.host, server.address, 'no Service.Address: the node address')
      // Not passing: critical (statements that need it fail, rather than miss its rows), then gone.
      const departed = await viewWhere(d, 'd-ttl critical', (v) => edgeOf(v, 'd-ttl')?.status === 'critical', 5000)
      assert.equal(edgeOf(departed, 'd-ttl')!.synopsis?.version, 5)
      await viewWhere(d, 'd-ttl gone after its grace', (v) => !edgeOf(v, 'd-ttl') && v.edges.length === 2, 5000)
      await ttl.updateTtlCheck('edge-d-ttl:ttl', 'passing', 'ok')
      const back = await viewWhere(d, 'd-ttl back', (v) => edgeOf(v, 'd-ttl') !== undefined)
      assert.equal(edgeOf(back, 'd-ttl')!.synopsis?.version, 5)
      await ttl.deregisterService('edge-d-ttl')
      await viewWhere(d, 'd-ttl deregistered: critical', (v) => edgeOf(v, 'd-ttl')?.status === 'critical')
      await viewWhere(d, 'd-ttl deregistered: gone after its grace', (v) => !edgeOf(v, 'd-ttl'))
    } finally {
      await ttl.close()
    }
  })

  test('an edge recorded in KV stays critical while down, past the grace and for a gateway that never saw it, until decommissioned', async () => {
    const { log: regLog } = captureLogger()
    const gone = register('d-gone', regLog, 7004)
    const later = { log: captureLogger() }
    let d2: ConsulDiscovery | undefined
    try {
      await gone.start()
      assert.equal(gone.enrolled, true)
      const record = JSON.parse((await writer.request('GET', `/v1/kv/${memberKey('d-gone')}`, { query: { raw: '' } })).body) as Record<string, unknown>
      assert.deepEqual({ ...record, enrolledAt: typeof record['enrolledAt'] }, {
        edgeId: 'd-gone', shard: 'shard-d-gone', cluster: 'prod', address: '127.0.0.1:7004', schemaVersion: 1, tags: ['zone-a'], tls: false, service: 'fedgres-edge', enrolledAt: 'string',
      })
      await gone.publish(synopsis('d-gone', 3, ['host-gone']))
      await viewWhere(d, 'd-gone passing', (v) => edgeOf(v, 'd-gone')?.status === 'passing')
      // A running edge is not decommissioned by mistake.
      await assert.rejects(decommissionEdge(writer, { edgeId: 'd-gone', serviceName: 'fedgres-edge', force: false }), /edge d-gone is still registered in Consul/)
      await gone.close() // deregisters: its rows stay on its disk
      const down = await viewWhere(d, 'd-gone critical', (v) => edgeOf(v, 'd-gone')?.status === 'critical', 5000)
      assert.equal(edgeOf(down, 'd-gone')!.shard, 'shard-d-gone')
      await sleep(DEPARTED_MS * 2)
      const afterGrace = edgeOf(d.current(), 'd-gone')
      assert.equal(afterGrace?.status, 'critical', 'still critical after the departed grace')
      assert.equal(afterGrace?.synopsis?.version, 3, 'its synopsis still prunes it where it cannot match')
      assert.ok(entries.some((e) => e['level'] === 'warn' && /recorded in Consul KV is not passing/.test(String(e['message'])) && e['edgeId'] === 'd-gone'))
      // A gateway started now, which never saw the edge pass, knows it too.
      d2 = discovery(later.log.log)
      const fresh = await viewWhere(d2, 'd-gone known to a new gateway', (v) => !v.stale && v.edges.length === 3)
      assert.deepEqual([edgeOf(fresh, 'd-gone')!.status, edgeOf(fresh, 'd-gone')!.host, edgeOf(fresh, 'd-gone')!.port], ['critical', '127.0.0.1', 7004])
      // Taken away for good: both views drop it.
      const { deleted } = await decommissionEdge(writer, { edgeId: 'd-gone', serviceName: 'fedgres-edge', force: false })
      assert.deepEqual([...deleted].sort(), [memberKey('d-gone'), synopsisKey('d-gone')])
      await viewWhere(d, 'd-gone decommissioned', (v) => !edgeOf(v, 'd-gone') && v.edges.length === 2, 5000)
      await viewWhere(d2, 'd-gone decommissioned (new gateway)', (v) => !edgeOf(v, 'd-gone') && v.edges.length === 2, 5000)
      await assert.rejects(decommissionEdge(writer, { edgeId: 'd-gone', serviceName: 'fedgres-edge', force: false }), /edge d-gone is already decommissioned/)
      await assert.rejects(decommissionEdge(writer, { edgeId: 'd-never', serviceName: 'fedgres-edge', force: false }), /no keys under fedgres\/edges\/d-never\//)
      // Dot segments would name other edges' keys: 'fedgres/edges/./' is the whole prefix once a URL resolves it.
      for (const id of ['.', '..', 'd-a/..', '']) await assert.rejects(decommissionEdge(writer, { edgeId: id, serviceName: 'fedgres-edge', force: true }), /is not an edge id/)
      assert.ok(edgeOf(d.current(), 'd-a'), 'nothing else was touched')
    } finally {
      await d2?.close()
      await gone.close()
      await writer.request('DELETE', '/v1/kv/fedgres/edges/d-gone/', { query: { recurse: '' } })
    }
  })

  test('records that vanish without a decommission (Consul lost its data) leave a departed edge critical for its grace', async () => {
    const { log: regLog } = captureLogger()
    const lost = register('d-lost', regLog, 7005)
    try {
      await lost.start()
      await lost.publish(synopsis('d-lost', 1))
      await viewWhere(d, 'd-lost passing', (v) => edgeOf(v, 'd-lost')?.status === 'passing')
      await lost.close()
      await viewWhere(d, 'd-lost critical', (v) => edgeOf(v, 'd-lost')?.status === 'critical', 5000)
      await sleep(DEPARTED_MS * 1.5) // past the departed grace: its record alone keeps it now
      assert.equal(edgeOf(d.current(), 'd-lost')?.status, 'critical')
      await writer.request('DELETE', '/v1/kv/fedgres/edges/d-lost/', { query: { recurse: '' } })
      await sleep(DEPARTED_MS / 2)
      assert.equal(edgeOf(d.current(), 'd-lost')?.status, 'critical', 'still critical: no decommission said it is gone')
      await viewWhere(d, 'd-lost gone after its grace', (v) => !edgeOf(v, 'd-lost'), 5000)
    } finally {
      await lost.close()
    }
  })

  test('through an outage the view stays (stale) and the synopsis time stops; then it recovers', async () => {
    await viewWhere(d, 'a healthy view', (v) => !v.stale && v.edges.length === 2)
    const before = d.current()
    const warnsBefore = entries.filter((e) => e['level'] === 'warn' && /serving the last good/.test(String(e['message']))).length
    await server.setDown(true, 'reset')
    try {
      const stale = await viewWhere(d, 'stale', (v) => v.stale, 5000)
      assert.deepEqual(stale.edges.map((e) => e.edgeId), before.edges.map((e) => e.edgeId), 'same edges')
      assert.deepEqual(stale.edges.map((e) => e.synopsis?.version), before.edges.map((e) => e.synopsis?.version))
      const frozen = d.current().edges[0]!.synopsisCurrentAt
      await sleep(600)
      const later = d.current()
      // It may step back once more, to the KV loop's last answer, when that loop fails after the health loop.
      assert.ok(later.edges[0]!.synopsisCurrentAt <= frozen, 'synopsisCurrentAt does not advance')
      assert.ok(later.takenAt - frozen >= 600)
      // Still failing after several backoffs, yet warned only once for this outage.
      const warns = entries.filter((e) => e['level'] === 'warn' && /serving the last good/.test(String(e['message']))).length
      assert.equal(warns - warnsBefore, 1)
    } finally {
      await server.setDown(false)
    }
    const fresh = await viewWhere(d, 'recovered', (v) => !v.stale && v.edges.length === 2, 15_000)
    assert.ok(Date.now() - fresh.edges[0]!.synopsisCurrentAt < SYNOPSIS_MAX_AGE_MS / 2)
    assert.ok(entries.some((e) => e['level'] === 'info' && /Consul reachable again/.test(String(e['message'])) && e['component'] === 'consul-discovery'))
    // Changes made after the outage still arrive.
    await regs[1]!.publish(synopsis('d-b', 10))
    await viewWhere(d, 'd-b at 10', (v) => edgeOf(v, 'd-b')?.synopsis?.version === 10, 3000)
  })

  test('"No cluster leader" is an outage too', async () => {
    await server.setDown(true, 'no-leader')
    try {
      await server.wakeBlockedQueries()
      await viewWhere(d, 'stale', (v) => v.stale && v.edges.length === 2, 5000)
    } finally {
      await server.setDown(false)
    }
    await viewWhere(d, 'recovered', (v) => !v.stale && v.edges.length === 2, 15_000)
  })

  test('an index reset and a zero index keep the view, and later changes still arrive', async () => {
    await viewWhere(d, 'a healthy view', (v) => !v.stale && v.edges.length === 2)
    assert.ok(server.index > 10)
    server.resetIndex(3)
    await sleep(100)
    assert.equal(d.current().edges.length, 2, 'view kept through the reset')
    // Without the reset rule the loop would keep blocking on an index far above the new one and
    // miss this. A poll that left just before the reset and arrives after it does block for one
    // full wait (as in Consul), hence the allowance of WAIT_MS.
    await regs[0]!.publish(synopsis('d-a', 20))
    await viewWhere(d, 'd-a at 20 after the reset', (v) => edgeOf(v, 'd-a')?.synopsis?.version === 20, WAIT_MS * 2 + 1000)
    server.injectZeroIndexOnce()
    await regs[0]!.publish(synopsis('d-a', 21))
    await viewWhere(d, 'd-a at 21', (v) => edgeOf(v, 'd-a')?.synopsis?.version === 21, WAIT_MS * 2 + 1000)
    await regs[0]!.publish(synopsis('d-a', 22))
    const view = await viewWhere(d, 'd-a at 22 after the zero index', (v) => edgeOf(v, 'd-a')?.synopsis?.version === 22, WAIT_MS * 2 + 1000)
    assert.equal(view.edges.length, 2)
    assert.equal(view.stale, false)
  })
})

describe('ConsulDiscovery with ACLs', () => {
  test('the token goes with every call, registration and watches alike', async () => {
    const { log } = captureLogger()
    const acl = await startConsulTestServer({ aclToken: 'edge-secret' })
    const reg = new ConsulRegistration({
      edgeId: 'acl', address: '127.0.0.1', port: 7200, shard: 's', cluster: 'c', schemaVersion: 1, nodeTags: [],
      ttlMs: TTL_MS, deregisterAfterMs: 60_000, consul: { address: acl.url, token: 'edge-secret' }, log,
    })
    const d = new ConsulDiscovery({ consul: { address: acl.url, token: 'edge-secret' }, waitMs: WAIT_MS, log })
    const anonymous = new ConsulDiscovery({ consul: { address: acl.url }, waitMs: WAIT_MS, log })
    try {
      await reg.start()
      assert.equal(reg.registered, true)
      await reg.publish(synopsis('acl', 1))
      await viewWhere(d, 'the edge with its synopsis', (v) => edgeOf(v, 'acl')?.synopsis?.version === 1)
      // Anonymous reads are filtered (the KV list comes back 404 with X-Consul-Results-Filtered-By-ACLs,
      // which must not read as "no edges recorded"): never a usable view.
      const anon = new ConsulClient({ address: acl.url })
      try {
        const filtered = await anon.request('GET', '/v1/kv/fedgres/edges/', { query: { recurse: '' } })
        assert.deepEqual([filtered.status, filtered.filtered], [404, true])
        // Nor may an operator's decommission trust such a view.
        await assert.rejects(decommissionEdge(anon, { edgeId: 'acl', serviceName: 'fedgres-edge', force: true }), /filtered .* by ACLs/)
      } finally {
        await anon.close()
      }
      const v = await anonymous.ready(3000)
      assert.equal(v.edges.length, 0)
      assert.equal(v.stale, true)
    } finally {
      await Promise.all([d.close(), anonymous.close(), reg.close()])
      await acl.close()
    }
  })
})

describe('ConsulDiscovery under churn, and close()', () => {
  test('50 KV writes in a burst do not push the KV loop past its rate limit', async () => {
    const { log } = captureLogger()
    const proxy = await countingProxy(server.url)
    const reg = register('churn', log, 7100)
    const d = discovery(log, proxy.url)
    try {
      await reg.start()
      await viewWhere(d, 'the churn edge', (v) => edgeOf(v, 'churn') !== undefined && !v.stale)
      await sleep(300) // a full bucket: burst 2 again
      const kvPolls = () => proxy.log.filter((r) => r.path === '/v1/kv/fedgres/edges/')
      const start = Date.now()
      const before = kvPolls().length
      for (let v = 1; v <= 50; v++) {
        assert.equal(await writer.kvPut(synopsisKey('churn'), JSON.stringify(synopsis('churn', v))), true)
        await sleep(10)
      }
      const view = await viewWhere(d, 'the last write', (x) => edgeOf(x, 'churn')?.synopsis?.version === 50, 3000)
      const elapsed = Date.now() - start
      const polls = kvPolls().length - before
      // Burst 2, then one per 100 ms, plus the poll that was parked when the burst began.
      const allowed = 2 + Math.ceil(elapsed / 100) + 1
      assert.ok(polls <= allowed, `${polls} KV polls in ${elapsed} ms (allowed ${allowed})`)
      assert.ok(polls < 50, 'coalesced: far fewer polls than writes')
      assert.ok(edgeOf(view, 'churn'))
    } finally {
      await d.close()
      await reg.close()
      await writer.request('DELETE', '/v1/kv/fedgres/edges/churn/', { query: { recurse: '' } })
      await proxy.close()
    }
  })

  test('close() aborts the long polls and leaves no socket open', async () => {
    const { log } = captureLogger()
    const d = discovery(log)
    await d.ready(5000)
    await waitFor('both loops parked in Consul', () => server.blockedQueries >= 2, 5000, 10)
    const t0 = Date.now()
    await d.close()
    assert.ok(Date.now() - t0 < 1000, 'close() does not wait for the polls to time out')
    await waitFor('no blocked query left', () => server.blockedQueries === 0, 2000, 10)
    await d.close() // idempotent
    await writer.close()
    await server.close()
    await sleep(50)
    const sockets = process.getActiveResourcesInfo().filter((r) => /TCP/.test(r))
    assert.deepEqual(sockets, [], 'no open socket or server')
  })
})
