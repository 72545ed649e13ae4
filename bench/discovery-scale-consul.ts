/**
 * The Consul side of bench/discovery-scale.ts, in its own process so that the gateway's CPU is
 * measured alone: the project's Consul test server with N edges registered as ConsulRegistration
 * registers them (Meta, a passing TTL check) and each edge's membership record and synopsis in KV.
 * Driven over IPC: `bump` republishes one edge's synopsis, `fail`/`pass` flips its check, `churn`
 * republishes every edge once per `periodMs`, spread evenly.
 */
import { startConsulTestServer } from '../test/consul/consul-test-server.js'
import type { Synopsis } from '../schema/synopsis.js'

const N = Number(process.argv[2] ?? 1000)
const DAY_US = 86_400_000_000
const NAMESPACES = ['default', 'kube-system', 'payments', 'checkout', 'monitoring', null]

const server = await startConsulTestServer({ reapInterval: 3_600_000, waitJitter: true })
const base = server.url
const versions = new Map<number, number>()

const edgeId = (i: number) => `e${String(i).padStart(5, '0')}`

function synopsis(i: number, version: number): Synopsis {
  const now = Date.now() * 1000
  const hosts = [0, 1, 2].map((h) => `node-${i}-${h}.prod.example.internal`)
  const table = (rows: number) => ({
    rows, minTime: now - 7 * DAY_US, maxTime: now + 300_000_000,
    values: { cluster_name: [`cluster-${i % 20}`], host_name: hosts, namespace_name: NAMESPACES, tags: ['pci', 'team-a', null] },
  })
  return { edgeId: edgeId(i), version, publishedAt: new Date().toISOString(), schemaVersion: 1, tables: { alerts: table(12_000 + i), logs: table(480_000 + i) } }
}

async function put(path: string, body: string): Promise<void> {
  const res = await fetch(base + path, { method: 'PUT', body })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}

async function setup(i: number): Promise<void> {
  const id = edgeId(i)
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
  const meta = { edge_id: id, shard: id, cluster: `cluster-${i % 20}`, schema_version: '1', tags: 'zone-a,pci', address: `${address}:5433`, tls: 'false' }
  await put('/v1/agent/service/register', JSON.stringify({
    ID: `edge-${id}`, Name: 'fedgres-edge', Address: address, Port: 5433, Tags: ['fedgres', 'schema-v1'], Meta: meta,
    Check: { CheckID: `edge-${id}:ttl`, Name: 'fedgres edge heartbeat', TTL: '10h', Status: 'passing', DeregisterCriticalServiceAfter: '100h', Notes: 'TTL check passed by the fedgres edge agent via /v1/agent/check/update' },
  }))
  const record = { edgeId: id, shard: id, cluster: meta.cluster, address: meta.address, schemaVersion: 1, tags: ['zone-a', 'pci'], tls: false, service: 'fedgres-edge', enrolledAt: new Date().toISOString() }
  await put(`/v1/kv/fedgres/edges/${id}/member`, JSON.stringify(record))
  versions.set(i, 1)
  await put(`/v1/kv/fedgres/edges/${id}/synopsis`, JSON.stringify(synopsis(i, 1)))
}

async function bump(i: number): Promise<number> {
  const v = (versions.get(i) ?? 0) + 1
  versions.set(i, v)
  await put(`/v1/kv/fedgres/edges/${edgeId(i)}/synopsis`, JSON.stringify(synopsis(i, v)))
  return v
}

for (let next = 0; next < N; ) {
  const batch = []
  for (let k = 0; k < 32 && next < N; k++) batch.push(setup(next++))
  await Promise.all(batch)
}

let churn: NodeJS.Timeout | undefined
process.on('message', (m: { op: string; i?: number; periodMs?: number; seq: number }) => {
  const reply = (x: object) => process.send!({ seq: m.seq, ...x })
  if (m.op === 'bump') void bump(m.i!).then((version) => reply({ version }))
  else if (m.op === 'fail' || m.op === 'pass') void put(`/v1/agent/check/${m.op}/edge-${edgeId(m.i!)}:ttl`, '').then(() => reply({}))
  else if (m.op === 'churn') {
    // Every edge once per periodMs: N/period changes per ms, sent in 20 ms ticks.
    let at = 0
    let sent = 0
    const started = Date.now()
    churn = setInterval(() => {
      const due = Math.floor(((Date.now() - started) * N) / m.periodMs!)
      for (; sent < due; sent++) void bump(at++ % N)
    }, 20)
    reply({})
  } else if (m.op === 'stop') {
    clearInterval(churn)
    reply({})
  } else if (m.op === 'exit') void server.close().then(() => process.exit(0))
})
process.send!({ seq: 0, url: base, index: server.index })
