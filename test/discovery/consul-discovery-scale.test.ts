/**
 * Consul discovery in a large network: every KV answer lists every edge's membership record and
 * synopsis, at up to 10 answers a second under churn, so the work per answer must go to what
 * changed. A change of one edge's synopsis among hundreds parses that synopsis alone and
 * serializes no edge list; an unchanged value is recognised by the value itself, so a value
 * re-written at the ModifyIndex of the one held (Consul lost its data or restored a snapshot)
 * is read, not mistaken for the old one, which would keep pruning with a stale synopsis.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulDiscovery } from '../../gateway/discovery/consul-discovery.js'
import type { EdgeView } from '../../gateway/discovery/edge-view.js'
import { memberKey } from '../../schema/membership.js'
import { synopsisKey, type Synopsis } from '../../schema/synopsis.js'
import { startConsulTestServer, type ConsulTestServer } from '../consul/consul-test-server.js'
import { captureLogger } from '../helpers/capture-logger.js'

const N = 300
let server: ConsulTestServer

const edgeId = (i: number) => `s${String(i).padStart(4, '0')}`

function synopsis(id: string, version: number): Synopsis {
  const table = { rows: 10, minTime: 1, maxTime: 2, values: { cluster_name: ['prod'], host_name: [`${id}-a`, `${id}-b`, `${id}-c`], namespace_name: ['default', 'kube-system', null], tags: [] } }
  return { edgeId: id, version, publishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(), schemaVersion: 1, tables: { alerts: table, logs: table } }
}

async function put(url: string, path: string, body: string): Promise<void> {
  const res = await fetch(url + path, { method: 'PUT', body })
  assert.equal(res.status, 200, `${path}: ${await res.text()}`)
}

async function addEdge(i: number): Promise<void> {
  const id = edgeId(i)
  const address = `10.0.${i >> 8}.${i & 255}`
  await put(server.url, '/v1/agent/service/register', JSON.stringify({
    ID: `edge-${id}`, Name: 'fedgres-edge', Address: address, Port: 5433, Meta: { edge_id: id, shard: id, cluster: 'prod', schema_version: '1', tags: 'zone-a', tls: 'false' },
    Check: { CheckID: `edge-${id}:ttl`, TTL: '1h', Status: 'passing' },
  }))
  const record = { edgeId: id, shard: id, cluster: 'prod', address: `${address}:5433`, schemaVersion: 1, tags: ['zone-a'], tls: false, service: 'fedgres-edge', enrolledAt: '2026-01-01T00:00:00Z' }
  await put(server.url, `/v1/kv/${memberKey(id)}`, JSON.stringify(record))
  await put(server.url, `/v1/kv/${synopsisKey(id)}`, JSON.stringify(synopsis(id, 1)))
}

function viewWhere(d: ConsulDiscovery, what: string, accept: (v: EdgeView) => boolean, timeoutMs = 10_000): Promise<EdgeView> {
  if (accept(d.current())) return Promise.resolve(d.current())
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
    const off = d.onChange((v) => {
      if (!accept(v)) return
      clearTimeout(timer)
      off()
      resolve(v)
    })
  })
}

const versionOf = (v: EdgeView, id: string) => v.edges.find((e) => e.edgeId === id)?.synopsis?.version

before(async () => {
  server = await startConsulTestServer({ reapInterval: 3_600_000 })
  for (let i = 0; i < N; i += 25) await Promise.all(Array.from({ length: Math.min(25, N - i) }, (_, k) => addEdge(i + k)))
})

after(async () => {
  await server.close()
})

test(`one edge's new synopsis among ${N}: only it is parsed, and no edge list is serialized`, async () => {
  const { log } = captureLogger()
  const d = new ConsulDiscovery({ consul: { address: server.url }, waitMs: 2000, log })
  try {
    const first = await d.ready()
    assert.equal(first.edges.length, N)
    await viewWhere(d, 'every synopsis', (v) => v.edges.every((e) => e.synopsis !== null))
    // Both loops parked in Consul before counting.
    await new Promise((r) => setTimeout(r, 300))
    const parse = JSON.parse
    const stringify = JSON.stringify
    let perEdgeParses = 0
    let stringified = 0
    JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
      if (typeof text === 'string' && text.startsWith('{"edgeId"')) perEdgeParses++
      return parse(text, reviver)
    }) as typeof JSON.parse
    JSON.stringify = ((value: unknown, replacer?: never, space?: string | number) => {
      const s = stringify(value, replacer, space)
      // The test server runs in this process too: count discovery's own serializing only.
      if (new Error().stack?.includes('/gateway/discovery/')) stringified += s?.length ?? 0
      return s
    }) as typeof JSON.stringify
    try {
      const id = edgeId(123)
      const changed = viewWhere(d, 'the new synopsis', (v) => versionOf(v, id) === 2)
      const body = stringify(synopsis(id, 2))
      await put(server.url, `/v1/kv/${synopsisKey(id)}`, body)
      const v = await changed
      // Answers that changed nothing (the health loop's, a repeat of the KV one) cost no parse either.
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(perEdgeParses, 1, `documents of single edges parsed for one changed synopsis (each of the ${N} records and synopses was parsed on every answer)`)
      assert.ok(stringified < 2000, `characters serialized by discovery for one change: ${stringified} (the whole member list was serialized on every answer)`)
      assert.equal(versionOf(v, edgeId(7)), 1)
      assert.strictEqual(v.edges.find((e) => e.edgeId === edgeId(7))!.synopsis, first.edges.find((e) => e.edgeId === edgeId(7))!.synopsis, 'an unchanged synopsis is the same object')
    } finally {
      JSON.parse = parse
      JSON.stringify = stringify
    }
  } finally {
    await d.close()
  }
})

test('a synopsis re-written at the ModifyIndex of the one held is read (Consul lost its data meanwhile)', async () => {
  const { log } = captureLogger()
  const d = new ConsulDiscovery({ consul: { address: server.url }, waitMs: 2000, backoff: { initialMs: 20, maxMs: 100 }, log })
  const other = await server.addAgent({ nodeName: 'writer-node' })
  try {
    await d.ready()
    const id = edgeId(5)
    await put(server.url, `/v1/kv/${synopsisKey(id)}`, JSON.stringify(synopsis(id, 7)))
    const held = server.index // the ModifyIndex of version 7 as the gateway holds it
    await viewWhere(d, 'version 7', (v) => versionOf(v, id) === 7)
    await server.setDown(true)
    await viewWhere(d, 'a stale view', (v) => v.stale)
    // A restore to before that write, then the edge publishes again: its new synopsis (version 8,
    // wider) lands at the very ModifyIndex the gateway holds version 7 at. Another edge's write
    // follows, so the gateway's next poll (at that index) is answered.
    server.resetIndex(held - 1)
    await put(other.url, `/v1/kv/${synopsisKey(id)}`, JSON.stringify(synopsis(id, 8)))
    assert.equal(server.index, held)
    await put(other.url, `/v1/kv/${synopsisKey(edgeId(6))}`, JSON.stringify(synopsis(edgeId(6), 2)))
    await server.setDown(false)
    const v = await viewWhere(d, 'a fresh view with the other edge’s write', (x) => !x.stale && versionOf(x, edgeId(6)) === 2)
    assert.equal(versionOf(v, id), 8, 'the synopsis in Consul, not the one held at the same ModifyIndex')
  } finally {
    await d.close()
  }
})
