/**
 * The Consul contract's fault scenarios, each on a dedicated project test server whose hooks
 * drive the fault: agent restarts, index resets, zero indexes, failed nodes, several agents,
 * leaderless clusters and connection faults, and ACLs. Skipped against a real agent
 * (CONSUL_HTTP_ADDR), which has no such hooks.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { call, client, eventually, failure, headerIndex, http, nextEvent, withResponse, type ClientResponse } from './contract-helpers.js'
import { checkOf, health, needsHooks, passingCount, registerTtl, svcName, ttlCheck, withServer } from './contract-fixtures.js'

describe(`Consul contract: faults (project test server)`, () => {
  test('an agent restart without its data dir loses registrations: pass is a 404, re-registering recovers', { skip: needsHooks }, async () => {
    await withServer({}, async (s, c) => {
      const svc = svcName('restart')
      await registerTtl(c, svc)
      await c.agent.check.pass(ttlCheck(svc))
      await c.kv.set('kept', 'server state')
      await s.restart({ keepState: true })
      await c.agent.check.pass(ttlCheck(svc))
      await passingCount(c, svc, 1)
      await s.restart({ keepState: false, downtimeMs: 50 })
      const f = await failure(c.agent.check.pass(ttlCheck(svc)))
      assert.equal(f.status, 404)
      assert.match(f.body, /^Unknown check ID/)
      assert.deepEqual(await health(c, svc, false), [])
      assert.equal((await c.kv.get('kept'))?.Value, 'server state')
      await registerTtl(c, svc)
      await c.agent.check.pass(ttlCheck(svc))
      await passingCount(c, svc, 1)
    })
  })

  test('an index reset (snapshot restore) returns blocked queries with a lower index; consul.watch follows', { skip: needsHooks }, async () => {
    await withServer({}, async (s, c) => {
      for (let i = 0; i < 5; i++) await c.kv.set('reset/key', `v${i}`)
      const before = await withResponse<unknown>(c.kv, c.kv.get, { key: 'reset/key' })
      const t0 = Date.now()
      const blocked = withResponse<unknown>(c.kv, c.kv.get, { key: 'reset/key', index: String(before.index), wait: '10s' })
      // Reset only once the query is parked: one sent after the reset would carry an index
      // ahead of the server's and simply hold until `wait`.
      await eventually('the query to block', async () => s.blockedQueries === 1)
      s.resetIndex(2)
      const after = await blocked
      assert.ok(Date.now() - t0 < 5000)
      assert.ok(after.index <= 2 && after.index < before.index, `index ${after.index} after reset from ${before.index}`)
      for (let i = 0; i < 5; i++) await c.kv.set('reset/key', `w${i}`)
      const w = c.watch({ method: c.kv.get, options: { key: 'reset/key', wait: '5s' } })
      w.on('error', () => undefined)
      try {
        await nextEvent(w, 'change', () => true)
        const lowered = nextEvent<[unknown, ClientResponse]>(w, 'change', (_d, res) => headerIndex(res.headers['x-consul-index']) <= 3)
        await eventually('the watch to block', async () => s.blockedQueries === 1)
        s.resetIndex(3)
        await lowered
      } finally {
        w.end()
      }
    })
  })

  test('an injected zero index makes consul.watch report an error and retry', { skip: needsHooks }, async () => {
    await withServer({}, async (s, c) => {
      await c.kv.set('zero/key', 'a')
      const w = c.watch({ method: c.kv.get, options: { key: 'zero/key', wait: '5s' }, backoffFactor: 10 })
      try {
        await nextEvent(w, 'change', () => true)
        const error = nextEvent<[Error]>(w, 'error', () => true)
        const recovered = nextEvent<[{ Value: string }]>(w, 'change', (d) => d.Value === 'c')
        s.injectZeroIndexOnce()
        await c.kv.set('zero/key', 'b')
        assert.match((await error)[0].message, /zero index/)
        await c.kv.set('zero/key', 'c')
        await recovered
      } finally {
        w.end()
      }
    })
  })

  test('a failed node (serfHealth critical) drops all its services from ?passing', { skip: needsHooks }, async () => {
    await withServer({}, async (s, c) => {
      const svc = svcName('node')
      await registerTtl(c, svc, { status: 'passing' })
      await passingCount(c, svc, 1)
      s.setNodeHealth('critical')
      await passingCount(c, svc, 0)
      assert.equal(checkOf(await health(c, svc, false), 'serfHealth')?.Status, 'critical')
      s.setNodeHealth('passing')
      await passingCount(c, svc, 1)
    })
  })

  test('several agents share one catalog; restarting one drops only its own services', { skip: needsHooks }, async () => {
    await withServer({}, async (s, c) => {
      const edge = await s.addAgent({ nodeName: 'edge-2', address: '10.0.0.2' })
      const c2 = client({ url: new URL(edge.url) })
      try {
        const svc = svcName('multi')
        await call(c.agent.service, c.agent.service.register, { name: svc, id: `${svc}-1`, check: { ttl: '10s', status: 'passing' } })
        await call(c2.agent.service, c2.agent.service.register, { name: svc, id: `${svc}-2`, check: { ttl: '10s', status: 'passing' } })
        const both = await passingCount(c, svc, 2)
        assert.deepEqual(both.map((e) => [e.Node.Node, e.Service.ID]), [['consul-test-server', `${svc}-1`], ['edge-2', `${svc}-2`]])
        assert.deepEqual(Object.keys((await c2.agent.service.list()) as Record<string, unknown>), [`${svc}-2`])
        await edge.restart({ keepState: false })
        const left = await passingCount(c, svc, 1)
        assert.equal(left[0]!.Service.ID, `${svc}-1`)
      } finally {
        c2.destroy()
      }
    })
  })

  test('faults: no cluster leader, reset and refused connections, latency', { skip: needsHooks }, async () => {
    await withServer({}, async (s, c, t) => {
      await s.setDown(true, 'no-leader')
      const f = await failure(c.kv.get('x'))
      assert.equal(f.status, 500)
      assert.equal(f.body, 'No cluster leader')
      assert.deepEqual(await c.agent.service.list(), {}, 'agent endpoints work without a leader')
      const stale = await http(t, 'GET', '/v1/kv/x?stale')
      assert.equal(stale.status, 404)
      assert.equal(stale.headers.get('x-consul-knownleader'), 'false')
      await s.setDown(true, 'reset')
      await assert.rejects(client(t).kv.get('x'))
      await s.setDown(true, 'refuse')
      await assert.rejects(fetch(`${s.url}/v1/kv/x`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED')
      await s.setDown(false)
      assert.equal(await client(t).kv.get('x'), undefined)
      s.setLatency(200)
      const t0 = Date.now()
      await http(t, 'GET', '/v1/status/leader')
      assert.ok(Date.now() - t0 >= 190)
    })
  })

  test('ACL: anonymous callers are refused (or filtered on list reads); the token works as header or Bearer', { skip: needsHooks }, async () => {
    await withServer({ aclToken: 'secret' }, async (_s, c, t) => {
      const anonymous = client(t, '')
      const stranger = client(t, 'not-the-token')
      try {
        assert.equal(await c.kv.set('acl/key', 'v'), true)
        const denied = await failure(anonymous.kv.get('acl/key'))
        assert.equal(denied.status, 403)
        assert.match(denied.body, /Permission denied/)
        assert.equal((await failure(anonymous.kv.set('acl/key', 'w'))).status, 403)
        assert.equal((await failure(registerTtl(anonymous, svcName('acl')))).status, 403)
        assert.equal((await failure(stranger.kv.get('acl/key'))).status, 403)
        const bearer = await http(t, 'GET', '/v1/kv/acl/key', { token: '', headers: { Authorization: 'Bearer secret' } })
        assert.equal(bearer.status, 200)
        const svc = svcName('acl')
        await registerTtl(c, svc, { status: 'passing' })
        assert.equal((await health(c, svc, true)).length, 1)
        const filtered = await withResponse<unknown[]>(anonymous.health, anonymous.health.service, { service: svc })
        assert.deepEqual(filtered.body, [])
        assert.equal(filtered.res.headers['x-consul-results-filtered-by-acls'], 'true')
      } finally {
        anonymous.destroy()
        stranger.destroy()
      }
    })
  })
})

