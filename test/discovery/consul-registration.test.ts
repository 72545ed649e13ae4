/**
 * The edge's Consul registration against the project's Consul test server: registration and
 * first pass, heartbeats, synopsis publication through outages, re-registration after an agent
 * restart that lost its state, deregistration, and Meta validation.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type winston from 'winston'
import { ConsulMetaError, validateServiceMeta } from '../../common/consul/consul-client.js'
import { ConsulRegistration, type ConsulRegistrationOptions } from '../../edge-agent/registry/consul-registration.js'
import { advertisedEndpoint, createPublisher } from '../../edge-agent/registry/index.js'
import { LocalPublisher } from '../../edge-agent/registry/publisher.js'
import { edgeConfigSchema } from '../../edge-agent/config.js'
import { memberKey } from '../../schema/membership.js'
import { synopsisKey, type Synopsis } from '../../schema/synopsis.js'
import { startConsulTestServer, type ConsulTestServer } from '../consul/consul-test-server.js'
import { captureLogger } from '../helpers/capture-logger.js'
import { waitFor, sleep } from '../helpers/wait.js'

const TTL_MS = 1500

function synopsis(edgeId: string, version: number, hosts: string[] = []): Synopsis {
  const table = { rows: 0, minTime: null, maxTime: null, values: { cluster_name: [], host_name: hosts, namespace_name: [], tags: [] } }
  return { edgeId, version, publishedAt: new Date().toISOString(), schemaVersion: 1, tables: { alerts: table, logs: table } }
}

interface Entry {
  Service: { ID: string; Address: string; Port: number; Meta: Record<string, string> | null; Tags: string[] }
  Checks: { CheckID: string; Status: string; Output: string }[]
}

let server: ConsulTestServer

async function get(path: string): Promise<{ status: number; index: number; body: string }> {
  const res = await fetch(new URL(path, server.url))
  return { status: res.status, index: Number(res.headers.get('x-consul-index')), body: await res.text() }
}

const passing = async (name = 'fedgres-edge') => JSON.parse((await get(`/v1/health/service/${name}?passing`)).body) as Entry[]
const kvValue = async (key: string) => {
  const r = await get(`/v1/kv/${key}?raw`)
  return r.status === 200 ? r.body : undefined
}

function options(edgeId: string, log: winston.Logger, extra: Partial<ConsulRegistrationOptions> = {}): ConsulRegistrationOptions {
  return {
    edgeId, address: '127.0.0.1', port: 6543, shard: 's1', cluster: 'prod', schemaVersion: 1, nodeTags: ['zone-a', 'gpu'],
    ttlMs: TTL_MS, deregisterAfterMs: 60_000, consul: { address: server.url }, log, ...extra,
  }
}

before(async () => {
  // Short reaper and DeregisterCriticalServiceAfter floor (real Consul: 30 s and 1 min).
  server = await startConsulTestServer({ reapInterval: 50, minDeregisterAfter: 1000 })
})

after(async () => {
  await server.close()
})

describe('ConsulRegistration', () => {
  test('the edge appears in ?passing only after its first pass, with its Meta', async () => {
    const { log } = captureLogger()
    const reg = new ConsulRegistration(options('reg-a', log))
    const idx = (await get('/v1/health/service/fedgres-edge?passing')).index
    // Parked before start(): it wakes on the registration itself, before the pass is sent.
    const first = get(`/v1/health/service/fedgres-edge?passing&index=${idx}&wait=10s`)
    await waitFor('the blocked health query', () => server.blockedQueries >= 1, 5000, 5)
    try {
      await reg.start()
      assert.equal(reg.registered, true)
      const woke = await first
      assert.equal(woke.status, 200)
      assert.deepEqual(JSON.parse(woke.body), [], 'registered critical: not yet passing')
      const entry = await waitFor('the edge passing', async () => (await passing()).find((e) => e.Service.ID === 'edge-reg-a'), 5000)
      assert.equal(entry!.Service.Address, '127.0.0.1')
      assert.equal(entry!.Service.Port, 6543)
      assert.deepEqual(entry!.Service.Meta, {
        edge_id: 'reg-a', shard: 's1', cluster: 'prod', schema_version: '1', tags: 'zone-a,gpu', address: '127.0.0.1:6543', tls: 'false',
      })
      assert.deepEqual(entry!.Service.Tags, ['fedgres', 'schema-v1'])
      const check = entry!.Checks.find((c) => c.CheckID === 'edge-reg-a:ttl')
      assert.equal(check?.Status, 'passing')
    } finally {
      await reg.close()
    }
  })

  test('heartbeats keep the edge passing past several TTLs', async () => {
    const { log } = captureLogger()
    const reg = new ConsulRegistration(options('reg-hb', log))
    try {
      await reg.start()
      assert.equal(reg.heartbeatMs, TTL_MS / 3)
      const until = Date.now() + TTL_MS * 3
      while (Date.now() < until) {
        assert.ok((await passing()).some((e) => e.Service.ID === 'edge-reg-hb'), 'still passing')
        await sleep(100)
      }
    } finally {
      await reg.close()
    }
  })

  test('publish() writes the KV key; rejects while Consul is down; succeeds after recovery', async () => {
    const { log } = captureLogger()
    const reg = new ConsulRegistration(options('reg-pub', log))
    try {
      await reg.start()
      await reg.publish(synopsis('reg-pub', 1, ['h1']))
      assert.equal((JSON.parse((await kvValue(synopsisKey('reg-pub')))!) as Synopsis).version, 1)
      let version = 1
      for (const mode of ['reset', 'refuse', 'no-leader'] as const) {
        await server.setDown(true, mode)
        const widened = synopsis('reg-pub', ++version, ['h1', `h${version}`])
        await assert.rejects(reg.publish(widened), `publish must reject while Consul is down (${mode})`)
        await server.setDown(false)
        // The agent retries a rejected publish until it gets through.
        await waitFor('a publish after recovery', () => reg.publish(widened).then(() => true), 5000, 50)
        assert.equal((JSON.parse((await kvValue(synopsisKey('reg-pub')))!) as Synopsis).version, version)
      }
      await assert.rejects(reg.publish(synopsis('other-edge', 9)), /other-edge/)
    } finally {
      await server.setDown(false)
      await reg.close()
    }
  })

  test('concurrent publishes: the newest wins and an older one never overwrites it', async () => {
    const { log } = captureLogger()
    const reg = new ConsulRegistration(options('reg-conc', log))
    try {
      await Promise.all([5, 3, 7, 6, 4].map((v) => reg.publish(synopsis('reg-conc', v))))
      assert.equal((JSON.parse((await kvValue(synopsisKey('reg-conc')))!) as Synopsis).version, 7)
      await reg.publish(synopsis('reg-conc', 2))
      assert.equal((JSON.parse((await kvValue(synopsisKey('reg-conc')))!) as Synopsis).version, 7)
      await reg.publish(synopsis('reg-conc', 8))
      assert.equal((JSON.parse((await kvValue(synopsisKey('reg-conc')))!) as Synopsis).version, 8)
    } finally {
      await reg.close()
    }
  })

  test('after an agent restart without its state the registration comes back by itself', async () => {
    const { log, entries } = captureLogger()
    const reg = new ConsulRegistration(options('reg-restart', log))
    try {
      await reg.start()
      await waitFor('passing', async () => (await passing()).some((e) => e.Service.ID === 'edge-reg-restart'), 5000)
      await server.restart({ keepState: false })
      assert.equal((await get('/v1/agent/service/edge-reg-restart')).status, 404, 'the agent forgot the service')
      const t0 = Date.now()
      await waitFor('re-registration', async () => (await passing()).some((e) => e.Service.ID === 'edge-reg-restart'), TTL_MS * 4, 20)
      assert.ok(Date.now() - t0 < TTL_MS * 4)
      assert.ok(entries.some((e) => /registering again/.test(String(e['message']))), 'the re-registration is logged')
      await waitFor('the membership record', async () => (await kvValue(memberKey('reg-restart'))) !== undefined, TTL_MS * 4, 20)
    } finally {
      await reg.close()
    }
  })

  test('Consul down at start: start() resolves, and the edge registers once Consul is back', async () => {
    const { log, entries } = captureLogger()
    const reg = new ConsulRegistration(options('reg-late', log))
    await server.setDown(true, 'refuse')
    try {
      await reg.start()
      assert.equal(reg.registered, false)
      assert.equal(entries.filter((e) => e['level'] === 'warn').length, 1, 'one warning for the outage')
      await server.setDown(false)
      await waitFor('registration after recovery', async () => (await passing()).some((e) => e.Service.ID === 'edge-reg-late'), TTL_MS * 4)
      await waitFor('the membership record after recovery', async () => (await kvValue(memberKey('reg-late'))) !== undefined, TTL_MS * 4)
      assert.equal(reg.enrolled, true)
      assert.ok(entries.some((e) => e['level'] === 'info' && /reachable again/.test(String(e['message']))))
    } finally {
      await server.setDown(false)
      await reg.close()
    }
  })

  test('close() deregisters the service and keeps the synopsis and membership keys', async () => {
    const { log } = captureLogger()
    const reg = new ConsulRegistration(options('reg-close', log))
    await reg.start()
    assert.equal(reg.enrolled, true)
    assert.equal((JSON.parse((await kvValue(memberKey('reg-close')))!) as { shard: string }).shard, 's1')
    await reg.publish(synopsis('reg-close', 1))
    await reg.close()
    await reg.close() // idempotent
    assert.equal((await get('/v1/agent/service/edge-reg-close')).status, 404)
    assert.ok(!(await passing()).some((e) => e.Service.ID === 'edge-reg-close'))
    assert.ok(await kvValue(synopsisKey('reg-close')), 'the synopsis stays in KV')
    assert.ok(await kvValue(memberKey('reg-close')), 'the membership record stays in KV')
    await assert.rejects(reg.publish(synopsis('reg-close', 2)), /closed/)
  })

  test('a running edge whose membership record is deleted records itself again at its next reconcile', async () => {
    const { log, entries } = captureLogger()
    const reg = new ConsulRegistration(options('reg-rerecord', log, { reconcileMs: 600 }))
    try {
      await reg.start()
      assert.ok(await kvValue(memberKey('reg-rerecord')))
      const del = await fetch(new URL(`/v1/kv/${memberKey('reg-rerecord')}`, server.url), { method: 'DELETE' })
      assert.equal(await del.text(), 'true')
      await waitFor('the record written again', async () => (await kvValue(memberKey('reg-rerecord'))) !== undefined, 5000, 50)
      assert.ok(entries.some((e) => /membership record missing or changed/.test(String(e['message']))))
      // A decommission's marker is removed when the edge records itself again.
      const marker = await fetch(new URL('/v1/kv/fedgres/edges/reg-rerecord/decommissioned', server.url), { method: 'PUT', body: '{}' })
      assert.equal(await marker.text(), 'true')
      await fetch(new URL(`/v1/kv/${memberKey('reg-rerecord')}`, server.url), { method: 'DELETE' })
      await waitFor('the marker removed', async () => (await kvValue('fedgres/edges/reg-rerecord/decommissioned')) === undefined, 5000, 50)
      assert.ok(await kvValue(memberKey('reg-rerecord')))
    } finally {
      await reg.close()
    }
  })

  test('invalid Meta is a clear error before any request', async () => {
    const { log } = captureLogger()
    const before = server.index
    assert.throws(() => new ConsulRegistration(options('reg-bad', log, { cluster: 'x'.repeat(600) })), (e: unknown) => {
      assert.ok(e instanceof ConsulMetaError)
      assert.match(e.message, /"cluster" is 600 bytes of UTF-8; Consul allows at most 512/)
      return true
    })
    assert.throws(() => new ConsulRegistration(options('reg-bad', log, { nodeTags: Array.from({ length: 200 }, (_, i) => `tag-${i}`) })), /"tags" is \d+ bytes/)
    assert.equal(server.index, before, 'nothing was written')
    assert.equal((await get('/v1/agent/service/edge-reg-bad')).status, 404)
    const cases: [Record<string, string>, RegExp][] = [
      [{ ['k'.repeat(129)]: 'v' }, /1 to 128 characters/],
      [{ 'a.b': 'v' }, /only letters, digits/],
      [{ 'consul-x': 'v' }, /reserved/],
      [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])), /at most 64/],
      [{ k: 'é'.repeat(257) }, /514 bytes/],
    ]
    for (const [meta, why] of cases) assert.throws(() => validateServiceMeta(meta), why)
    validateServiceMeta({ ['k'.repeat(128)]: 'é'.repeat(256) })
  })

  test('createPublisher: Consul when configured, else local; the advertised endpoint', () => {
    const { log } = captureLogger()
    const base = { edge_id: 'fac', serve: { host: '0.0.0.0', port: 5433, users: [] } }
    assert.ok(createPublisher(edgeConfigSchema.parse(base), 5433, log) instanceof LocalPublisher)
    const withConsul = edgeConfigSchema.parse({ ...base, consul: { address: server.url, ttl: '3s' } })
    const pub = createPublisher(withConsul, 7000, log)
    assert.ok(pub instanceof ConsulRegistration)
    assert.equal(pub.serviceId, 'edge-fac')
    assert.equal(pub.heartbeatMs, 1000)
    assert.deepEqual(advertisedEndpoint(withConsul, 7000), { address: '', port: 7000 })
    const adv = (advertise: string) => advertisedEndpoint(edgeConfigSchema.parse({ ...base, serve: { ...base.serve, advertise } }), 7000)
    assert.deepEqual(adv('edge1.example'), { address: 'edge1.example', port: 7000 })
    assert.deepEqual(adv('10.1.2.3:6000'), { address: '10.1.2.3', port: 6000 })
    assert.deepEqual(adv('[fd00::1]:6000'), { address: 'fd00::1', port: 6000 })
    assert.deepEqual(adv('fd00::1'), { address: 'fd00::1', port: 7000 })
    return pub.close()
  })
})
