/**
 * Contract suite for the Consul HTTP API subset the project relies on (docs/consul.md §6). It
 * talks to Consul only through the real `consul` npm client, plus plain HTTP where the client has
 * no method. By default it runs against the project's Consul test server; with
 * `CONSUL_HTTP_ADDR` (and optionally `CONSUL_HTTP_TOKEN`) it runs against that real agent
 * instead, skipping the scenarios that need the test server's hooks, so the model stays honest.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type Consul from 'consul'
import { requiredKeys, type CatalogServiceJson, type ServiceEntryJson } from './api-types.js'
import { startConsulTestServer, type ConsulTestServer } from './consul-test-server.js'
import {
  call, client, eventually, failure, http, nextEvent, REAL_CONSUL, realTarget, withResponse,
  type Opts, type Target,
} from './contract-helpers.js'
import { checkOf, health, kvKey, kvPrefix, needsHooks, passingCount, registered, registerTtl, svcName, ttlCheck } from './contract-fixtures.js'

let target: Target
let consul: Consul
let server: ConsulTestServer | undefined

before(async () => {
  if (REAL_CONSUL) {
    target = realTarget(REAL_CONSUL)
  } else {
    // A short reaper and a 1 s floor for DeregisterCriticalServiceAfter (real Consul: 30 s and 1 min).
    server = await startConsulTestServer({ reapInterval: 50, minDeregisterAfter: 1000 })
    target = { url: new URL(server.url) }
  }
  consul = client(target)
})

after(async () => {
  for (const id of registered) await consul.agent.service.deregister(id).catch(() => undefined)
  await consul.kv.del({ key: kvPrefix, recurse: true }).catch(() => undefined)
  consul.destroy()
  await server?.close()
})


describe(`Consul contract (${REAL_CONSUL ? `real agent at ${REAL_CONSUL}` : 'project test server'})`, () => {
  test('a TTL-checked service appears in ?passing only after its first pass', async () => {
    const svc = svcName('first-pass')
    await registerTtl(consul, svc)
    const all = await eventually('the registration', async () => {
      const e = await health(consul, svc, false)
      return e.length === 1 && e
    })
    assert.equal(checkOf(all, ttlCheck(svc))?.Status, 'critical')
    assert.deepEqual(await health(consul, svc, true), [])
    await consul.agent.check.pass({ id: ttlCheck(svc), note: 'ready' })
    const [entry] = await passingCount(consul, svc, 1)
    assert.equal(entry!.Service.ID, svc)
    assert.equal(entry!.Service.Address, '10.0.0.17')
    assert.equal(entry!.Service.Port, 7443)
    assert.equal(checkOf([entry!], ttlCheck(svc))?.Output, 'ready')
  })

  test('health, catalog and KV responses carry the Go structs’ fields', async () => {
    const svc = svcName('shape')
    await registerTtl(consul, svc, {}, { tags: ['v1', 'zone-a'], meta: { node_id: 'n17', schema: '3' } })
    await consul.agent.check.pass(ttlCheck(svc))
    const [entry] = await passingCount(consul, svc, 1)
    for (const k of requiredKeys.node) assert.ok(k in entry!.Node, `Node.${k}`)
    for (const k of requiredKeys.service) assert.ok(k in entry!.Service, `Service.${k}`)
    for (const c of entry!.Checks) for (const k of requiredKeys.check) assert.ok(k in c, `Checks[].${k}`)
    assert.ok(entry!.Checks.some((c) => c.CheckID === 'serfHealth' && c.ServiceID === '' && c.Status === 'passing'), 'node check serfHealth')
    assert.deepEqual(entry!.Service.Meta, { node_id: 'n17', schema: '3' })
    assert.deepEqual(entry!.Service.Weights, { Passing: 1, Warning: 1 })
    // The agent derives tagged addresses from a literal IP Address.
    assert.deepEqual(entry!.Service.TaggedAddresses?.['lan_ipv4'], { Address: '10.0.0.17', Port: 7443 })
    assert.equal(checkOf([entry!], ttlCheck(svc))?.Type, 'ttl')
    // Without Meta the Go map stays nil: null in health reads, {} on the agent endpoint.
    const bare = svcName('shape-bare')
    await registerTtl(consul, bare, { status: 'passing' })
    const [bareEntry] = await passingCount(consul, bare, 1)
    assert.equal(bareEntry!.Service.Meta, null)
    assert.deepEqual(bareEntry!.Service.Tags, [])
    assert.deepEqual(((await consul.agent.service.list()) as Record<string, { Meta: unknown }>)[bare]?.Meta, {})
    const nodes = (await consul.catalog.service.nodes(svc)) as CatalogServiceJson[]
    for (const k of requiredKeys.catalogService) assert.ok(k in nodes[0]!, `CatalogService.${k}`)
    assert.deepEqual(nodes[0]!.ServiceMeta, { node_id: 'n17', schema: '3' })
    const names = (await consul.catalog.service.list()) as Record<string, string[]>
    assert.deepEqual(names['consul'], [])
    assert.deepEqual([...names[svc]!].sort(), ['v1', 'zone-a'])
    assert.equal(await consul.kv.set(kvKey('shape'), 'hello'), true)
    const kv = await http(target, 'GET', `/v1/kv/${kvKey('shape')}`)
    const [pair] = JSON.parse(kv.text) as Record<string, unknown>[]
    for (const k of requiredKeys.kv) assert.ok(k in pair!, `KVPair.${k}`)
    assert.equal(pair!['Value'], Buffer.from('hello').toString('base64'))
  })

  test('TTL expiry drops the service out of ?passing with Output "TTL expired"', async () => {
    const svc = svcName('ttl-expiry')
    // Long enough that a stalled machine still sees the pass before the expiry.
    await registerTtl(consul, svc, { ttl: '1s' })
    await consul.agent.check.pass({ id: ttlCheck(svc), note: 'ok' })
    await passingCount(consul, svc, 1)
    await passingCount(consul, svc, 0)
    const check = checkOf(await health(consul, svc, false), ttlCheck(svc))
    assert.equal(check?.Status, 'critical')
    assert.match(check?.Output ?? '', /^TTL expired/)
  })

  test('check update sets status and output; warning is not passing; unknown check IDs are a 404', async () => {
    const svc = svcName('update')
    await registerTtl(consul, svc)
    const update = (id: string, body: unknown) => http(target, 'PUT', `/v1/agent/check/update/${encodeURIComponent(id)}`, { body: JSON.stringify(body) })
    assert.equal((await update(ttlCheck(svc), { Status: 'warning', Output: 'degraded' })).status, 200)
    const check = await eventually('the warning state', async () => {
      const c = checkOf(await health(consul, svc, false), ttlCheck(svc))
      return c?.Status === 'warning' && c
    })
    assert.equal(check.Output, 'degraded')
    assert.deepEqual(await health(consul, svc, true), [], 'warning is excluded by ?passing')
    const unknown = await update('no-such-check', { Status: 'passing' })
    assert.equal(unknown.status, 404)
    assert.match(unknown.text, /^Unknown check ID "no-such-check"/)
    assert.equal((await update(ttlCheck(svc), { Status: 'fine' })).status, 400)
    const viaClient = await failure(consul.agent.check.pass({ id: 'no-such-check' }))
    assert.equal(viaClient.status, 404)
  })

  test('Meta is validated like Consul: 400 "Invalid Service Meta: …"', async () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))
    const cases: [string, Record<string, string>, RegExp][] = [
      ['key too long', { ['k'.repeat(129)]: 'v' }, /Key is too long/],
      ['bad characters', { 'a.b': 'v' }, /Key contains invalid characters/],
      ['reserved prefix', { 'consul-x': 'v' }, /reserved for internal use/],
      ['too many pairs', many, /cannot contain more than 64 key\/value pairs/],
      ['value too long', { k: 'x'.repeat(513) }, /Value is too long/],
      ['value too long in UTF-8 bytes', { k: 'é'.repeat(257) }, /Value is too long/],
    ]
    for (const [what, meta, why] of cases) {
      const svc = svcName('meta-bad')
      const f = await failure(registerTtl(consul, svc, {}, { meta }))
      assert.equal(f.status, 400, what)
      assert.ok(f.body.startsWith('Invalid Service Meta: '), `${what}: ${f.body}`)
      assert.match(f.body, why, what)
    }
    assert.equal(((await consul.agent.service.list()) as Record<string, unknown>)[svcName('meta-bad')], undefined)
    const limits = { ['k'.repeat(128)]: 'x'.repeat(512), utf8: 'é'.repeat(256), ...Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`k${i}`, 'v'])) }
    await registerTtl(consul, svcName('meta-limits'), {}, { meta: limits })
  })

  test('re-registering keeps check status; ?replace-existing-checks drops omitted checks', async () => {
    const svc = svcName('reregister')
    await registerTtl(consul, svc, {}, { meta: { v: '1' } })
    await consul.agent.check.pass(ttlCheck(svc))
    await passingCount(consul, svc, 1)
    await registerTtl(consul, svc, {}, { meta: { v: '2' } })
    await eventually('the new Meta, still passing', async () => (await health(consul, svc, true))[0]?.Service.Meta?.['v'] === '2')
    const body = (checks: string[]) => JSON.stringify({ Name: svc, ID: svc, Checks: checks.map((id) => ({ CheckID: id, TTL: '10s' })) })
    const ids = async () => Object.keys((await consul.agent.check.list()) as Record<string, unknown>).filter((id) => id.startsWith(svc)).sort()
    assert.equal((await http(target, 'PUT', '/v1/agent/service/register', { body: body([`${svc}:a`, `${svc}:b`]) })).status, 200)
    assert.deepEqual(await ids(), [`${svc}:a`, `${svc}:b`, ttlCheck(svc)])
    assert.equal((await http(target, 'PUT', '/v1/agent/service/register?replace-existing-checks=true', { body: body([`${svc}:a`]) })).status, 200)
    assert.deepEqual(await ids(), [`${svc}:a`])
  })

  test('unknown services: deregister is a 200 no-op, reads give 404 or []', async () => {
    const svc = svcName('never-registered')
    await consul.agent.service.deregister(svc)
    assert.equal((await http(target, 'GET', `/v1/agent/service/${svc}`)).status, 404)
    assert.deepEqual(await health(consul, svc, false), [])
    assert.deepEqual(await consul.catalog.service.nodes(svc), [])
  })

  test('maintenance mode adds a critical _service_maintenance check', async () => {
    const svc = svcName('maint')
    await registerTtl(consul, svc)
    await consul.agent.check.pass(ttlCheck(svc))
    await passingCount(consul, svc, 1)
    await consul.agent.service.maintenance({ id: svc, enable: true, reason: 'upgrade' })
    await passingCount(consul, svc, 0)
    const maint = checkOf(await health(consul, svc, false), `_service_maintenance:${svc}`)
    assert.equal(maint?.Status, 'critical')
    assert.equal(maint?.Notes, 'upgrade')
    await consul.agent.service.maintenance({ id: svc, enable: false })
    await passingCount(consul, svc, 1)
    assert.equal((await failure(consul.agent.service.maintenance({ id: svcName('nope'), enable: true }))).status, 404)
  })

  test('a blocking health query returns on a change before wait, and after wait with the same index', async () => {
    const svc = svcName('blocking')
    await registerTtl(consul, svc)
    await consul.agent.check.pass(ttlCheck(svc))
    await passingCount(consul, svc, 1)
    const first = await withResponse<ServiceEntryJson[]>(consul.health, consul.health.service, { service: svc, passing: true })
    let t0 = Date.now()
    const idle = await withResponse<ServiceEntryJson[]>(consul.health, consul.health.service, { service: svc, passing: true, index: String(first.index), wait: '600ms' })
    assert.ok(Date.now() - t0 >= 550, `held only ${Date.now() - t0} ms`)
    assert.equal(idle.index, first.index)
    assert.equal(idle.body?.length, 1)
    t0 = Date.now()
    const woken = withResponse<ServiceEntryJson[]>(consul.health, consul.health.service, { service: svc, passing: true, index: String(first.index), wait: '10s' })
    await sleep(150)
    await consul.agent.check.fail(ttlCheck(svc))
    const changed = await woken
    assert.ok(Date.now() - t0 < 5000, 'returned on the change, not at wait')
    assert.ok(changed.index > first.index)
    assert.deepEqual(changed.body, [])
  })

  test('every read sends X-Consul-Index > 0, KV 404s included', async () => {
    const svc = svcName('index')
    await registerTtl(consul, svc)
    await consul.kv.set(kvKey('index/present'), 'x')
    const reads: [string, object, unknown, Opts][] = [
      ['health.service', consul.health, consul.health.service, { service: svc }],
      ['catalog.service.list', consul.catalog.service, consul.catalog.service.list, {}],
      ['catalog.service.nodes', consul.catalog.service, consul.catalog.service.nodes, { service: svc }],
      ['kv.get', consul.kv, consul.kv.get, { key: kvKey('index/present') }],
      ['kv.get (404)', consul.kv, consul.kv.get, { key: kvKey('index/missing') }],
      ['kv.get recurse', consul.kv, consul.kv.get, { key: kvKey('index/'), recurse: true }],
      ['kv.get recurse (404)', consul.kv, consul.kv.get, { key: kvKey('index/none/'), recurse: true }],
      ['kv.keys', consul.kv, consul.kv.keys, { key: kvKey('index/') }],
    ]
    for (const [what, self, method, opts] of reads) {
      const { res, index } = await withResponse<unknown>(self, method, opts)
      assert.ok(Number.isInteger(index) && index > 0, `${what}: X-Consul-Index ${String(res.headers['x-consul-index'])}`)
      assert.equal(res.headers['x-consul-knownleader'], 'true', what)
      if (what.endsWith('(404)')) assert.equal(res.statusCode, 404, what)
    }
  })

  test('KV: set, get, recurse, keys, delete; a missing key reads as undefined', async () => {
    assert.equal(await consul.kv.set(kvKey('kv/a/1'), 'one'), true)
    assert.equal(await consul.kv.set(kvKey('kv/a/2'), 'two'), true)
    assert.equal(await consul.kv.set(kvKey('kv/b'), 'bee'), true)
    const one = await consul.kv.get(kvKey('kv/a/1'))
    assert.equal(one?.Value, 'one')
    assert.equal(one?.Key, kvKey('kv/a/1'))
    assert.equal(one?.Flags, 0)
    const under = (await consul.kv.get({ key: kvKey('kv/a/'), recurse: true })) as { Key: string; Value: string }[]
    assert.deepEqual(under.map((e) => [e.Key, e.Value]), [[kvKey('kv/a/1'), 'one'], [kvKey('kv/a/2'), 'two']])
    assert.deepEqual(await consul.kv.keys({ key: kvKey('kv/'), separator: '/' }), [kvKey('kv/a/'), kvKey('kv/b')])
    assert.deepEqual(await consul.kv.keys(kvKey('kv/')), [kvKey('kv/a/1'), kvKey('kv/a/2'), kvKey('kv/b')])
    assert.equal(await consul.kv.del(kvKey('kv/b')), true)
    assert.equal(await consul.kv.get(kvKey('kv/b')), undefined)
    assert.equal(await consul.kv.del({ key: kvKey('kv/a/'), recurse: true }), true)
    assert.equal(await consul.kv.get({ key: kvKey('kv/a/'), recurse: true }), undefined)
    await consul.kv.set({ key: kvKey('kv/flags'), value: 'f', flags: 42 })
    assert.equal((await consul.kv.get(kvKey('kv/flags')))?.Flags, 42)
    assert.deepEqual(await consul.kv.get({ key: kvKey('kv/flags'), raw: true }), Buffer.from('f'))
    await consul.kv.set(kvKey('kv/empty'), '')
    assert.equal((JSON.parse((await http(target, 'GET', `/v1/kv/${kvKey('kv/empty')}`)).text) as { Value: unknown }[])[0]!.Value, null)
  })

  test('KV: keys of a prefix without its slash, by separator "/", is one key carrying the index of the recurse read (the gateway\'s index probe)', async () => {
    const dir = kvKey('probe/edges')
    const index = async (query: string) => {
      const r = await http(target, 'GET', `/v1/kv/${dir}${query}`)
      return { status: r.status, index: Number(r.headers.get('x-consul-index')), text: r.text }
    }
    await consul.kv.set(`${dir}/a/synopsis`, '1')
    await consul.kv.set(`${dir}/b/member`, '2')
    const probe = await index('?keys&separator=/')
    assert.deepEqual(JSON.parse(probe.text), [`${dir}/`])
    const recurse = await index('/?recurse')
    assert.equal(probe.index, recurse.index)
    await consul.kv.set(`${dir}/a/synopsis`, '3')
    const moved = await index('?keys&separator=/')
    assert.ok(moved.index > probe.index)
    assert.equal(moved.index, (await index('/?recurse')).index)
    await consul.kv.del(`${dir}/b/member`)
    const deleted = await index('?keys&separator=/')
    assert.ok(deleted.index > moved.index, 'a delete moves it (tombstone)')
    assert.equal(deleted.index, (await index('/?recurse')).index)
    await consul.kv.del({ key: `${dir}/`, recurse: true })
  })

  test('health: a filter that matches no instance leaves the index of the ?passing read, with an empty list (the gateway\'s health index probe)', async () => {
    const svc = svcName('health-probe')
    await registerTtl(consul, svc)
    await consul.agent.check.pass(ttlCheck(svc))
    await passingCount(consul, svc, 1)
    const read = async (query: string) => {
      const r = await http(target, 'GET', `/v1/health/service/${svc}?passing=1${query}`)
      return { index: Number(r.headers.get('x-consul-index')), list: JSON.parse(r.text) as unknown[] }
    }
    const probe = await read(`&filter=${encodeURIComponent('Service.ID is empty')}`)
    const full = await read('')
    assert.deepEqual(probe.list, [])
    assert.equal(full.list.length, 1)
    assert.equal(probe.index, full.index)
    await consul.agent.check.fail(ttlCheck(svc))
    await eventually('the instance no longer passing', async () => (await health(consul, svc, true)).length === 0)
    const moved = await read(`&filter=${encodeURIComponent('Service.ID is empty')}`)
    assert.ok(moved.index > probe.index, 'a change of status moves it')
    assert.equal(moved.index, (await read('')).index)
  })

  test('KV CAS: cas=0 creates only, cas=N needs the current ModifyIndex (a miss resolves undefined, not false)', async () => {
    const key = kvKey('cas')
    assert.equal(await consul.kv.set({ key, value: 'v1', cas: 0 }), true)
    assert.notEqual(await consul.kv.set({ key, value: 'again', cas: 0 }), true)
    const m = (await consul.kv.get(key))!.ModifyIndex
    assert.equal(await consul.kv.set({ key, value: 'v2', cas: m }), true)
    assert.notEqual(await consul.kv.set({ key, value: 'v3', cas: m }), true)
    const now = (await consul.kv.get(key))!
    assert.equal(now.Value, 'v2')
    assert.notEqual(await consul.kv.del({ key, cas: m }), true)
    assert.equal(await consul.kv.del({ key, cas: now.ModifyIndex }), true)
    assert.equal(await consul.kv.get(key), undefined)
  })

  test('KV keys are percent-decoded on the server (the client sends a%2Fb)', async () => {
    const key = kvKey('enc/with space/ünï?&=%/x')
    assert.equal(await consul.kv.set(key, 'v'), true)
    const path = key.split('/').map(encodeURIComponent).join('/')
    const res = await http(target, 'GET', `/v1/kv/${path}`)
    assert.equal(res.status, 200)
    assert.equal((JSON.parse(res.text) as { Key: string }[])[0]!.Key, key)
    assert.deepEqual(await consul.kv.keys(kvKey('enc/')), [key])
    assert.equal((await consul.kv.get(key))?.Value, 'v')
  })

  test('KV values above 512 KiB are refused with 413', async () => {
    const f = await failure(consul.kv.set(kvKey('big'), Buffer.alloc(512 * 1024 + 1, 0x61)))
    assert.equal(f.status, 413)
    assert.equal(await consul.kv.set(kvKey('big'), Buffer.alloc(512 * 1024, 0x61)), true)
  })

  test('consul.watch on health.service emits change when a TTL check passes', async () => {
    const svc = svcName('watch')
    await registerTtl(consul, svc)
    const w = consul.watch({ method: consul.health.service, options: { service: svc, passing: true, wait: '5s' } as unknown as Record<string, string> })
    const errors: unknown[] = []
    w.on('error', (err: unknown) => errors.push(err))
    try {
      const empty = nextEvent<[ServiceEntryJson[]]>(w, 'change', (d) => d.length === 0)
      const one = nextEvent<[ServiceEntryJson[]]>(w, 'change', (d) => d.length === 1)
      await empty
      await consul.agent.check.pass(ttlCheck(svc))
      const [entries] = await one
      assert.equal(entries[0]!.Service.ID, svc)
      assert.deepEqual(errors, [])
    } finally {
      w.end()
    }
  })

  test('?filter= selects instances by Meta and Tags', async () => {
    const svc = svcName('filter')
    for (const [id, schema, zone] of [['a', '2', 'zone-a'], ['b', '3', 'zone-b']] as const) {
      registered.add(`${svc}-${id}`)
      await call(consul.agent.service, consul.agent.service.register, {
        name: svc, id: `${svc}-${id}`, tags: [zone], meta: { schema }, check: { checkid: `${svc}-${id}:ttl`, ttl: '10s', status: 'passing' },
      })
    }
    await passingCount(consul, svc, 2)
    const bySchema = await health(consul, svc, true, { filter: 'Service.Meta.schema == "3"' })
    assert.deepEqual(bySchema.map((e) => e.Service.ID), [`${svc}-b`])
    const byTag = await health(consul, svc, false, { filter: '"zone-a" in Service.Tags' })
    assert.deepEqual(byTag.map((e) => e.Service.ID), [`${svc}-a`])
  })

  test('bad requests get 4xx answers and the server keeps serving', async () => {
    const put = (path: string, body: string) => http(target, 'PUT', path, { body })
    assert.equal((await put('/v1/agent/service/register', '{not json')).status, 400)
    assert.equal((await put('/v1/agent/service/register', '[1,2]')).status, 400)
    assert.equal((await put('/v1/agent/service/register', JSON.stringify({ ID: 'x' }))).status, 400, 'Name is required')
    assert.equal((await put('/v1/agent/service/register', JSON.stringify({ Name: svcName('bad'), Meta: { k: 1 } }))).status, 400)
    assert.equal((await put('/v1/agent/service/register', JSON.stringify({ Name: svcName('bad'), Check: { Notes: 'no ttl' } }))).status, 400)
    assert.equal((await http(target, 'GET', '/v1/no-such-endpoint')).status, 404)
    assert.equal((await http(target, 'POST', `/v1/kv/${kvKey('x')}`)).status, 405)
    assert.equal((await http(target, 'GET', `/v1/kv/${kvKey('x')}?index=abc`)).status, 400)
    assert.equal((await http(target, 'GET', `/v1/kv/${kvKey('x')}?index=1&wait=5`)).status, 400)
    assert.equal((await http(target, 'GET', '/v1/status/leader')).status, 200)
  })

  test('DeregisterCriticalServiceAfter reaps a service critical longer than the (raised) minimum', { skip: needsHooks }, async () => {
    const doomed = svcName('reap')
    const healthy = svcName('reap-healthy')
    // 10ms is raised to the server's 1 s floor, as real Consul raises anything below 1 min.
    await registerTtl(consul, doomed, { deregistercriticalserviceafter: '10ms' })
    await registerTtl(consul, healthy, { deregistercriticalserviceafter: '10ms', status: 'passing' })
    await sleep(300)
    assert.ok(doomed in ((await consul.agent.service.list()) as Record<string, unknown>), 'not reaped before the minimum')
    await eventually('the reaper', async () => !(doomed in ((await consul.agent.service.list()) as Record<string, unknown>)), 5000)
    assert.deepEqual(await health(consul, doomed, false), [])
    assert.ok(healthy in ((await consul.agent.service.list()) as Record<string, unknown>), 'a passing service stays')
  })
})
