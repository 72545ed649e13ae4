/**
 * Event source → edge agent → PGlite over real gRPC on loopback, with both streams: the stored
 * rows equal what was sent, field by field, for the real samples and for generated traffic.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { rootLogger } from '../../common/log.js'
import { alertColumns, logColumns, type ColumnSpec } from '../../schema/index.js'
import { EdgeAgent } from '../../edge-agent/agent.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import type { Event } from '../../event-source/generator.js'
import { edgeConfig, openEdgeDb } from '../helpers/edge-fixtures.js'
import { expectedValue, normaliseStored } from '../helpers/expected-row.js'
import { loadSamples } from '../helpers/samples.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const log = rootLogger('test', 'warn')
const dir = tempDir()
after(() => dir.dispose())

const columns: Record<'alerts' | 'logs', readonly ColumnSpec[]> = { alerts: alertColumns, logs: logColumns }

/** JSON with object keys sorted: jsonb reorders keys, which does not change the value. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  )

function compare(table: 'alerts' | 'logs', sent: Event[], stored: Record<string, unknown>[], edgeId: string): void {
  assert.equal(stored.length, sent.length, `${table}: one row per event`)
  const key = (r: Record<string, unknown>) => canonical(columns[table].filter((c) => c.name !== 'time').map((c) => r[c.name] ?? null))
  const expected = sent.map((ev) => Object.fromEntries(columns[table].map((c) => [c.name, expectedValue(c, ev, edgeId)])))
  const byKey = new Map<string, Record<string, unknown>[]>()
  for (const r of stored.map(normaliseStored)) byKey.set(key(r), [...(byKey.get(key(r)) ?? []), r])
  for (const exp of expected) {
    const candidates = byKey.get(key(exp))
    if (!candidates?.length) {
      const closest = stored.map(normaliseStored).find((r) => r.updated_time === exp.updated_time && r.host_pid === exp.host_pid)
      const diff = closest ? columns[table].filter((c) => canonical(closest[c.name] ?? null) !== canonical(exp[c.name] ?? null)).map((c) => `${c.name}: stored ${JSON.stringify(closest[c.name])}, sent ${JSON.stringify(exp[c.name])}`) : ['no row with that UpdatedTime']
      assert.fail(`${table}: no stored row matches a sent event; ${diff.join('; ')}`)
    }
    const row = candidates.shift()!
    if (exp.time !== undefined) assert.equal(row.time, exp.time, `${table}: time of ${String(exp.updated_time)}`)
  }
}

test('real KubeArmor samples sent over gRPC are stored field by field', async () => {
  const source = new KubeArmorEventSource({ hosts: ['node-1'], rate: 0 })
  await source.start()
  const cfg = edgeConfig(dir.path + '/samples', [source.address], { edge_id: 'edge-samples' })
  const agent = await EdgeAgent.start(cfg, log)
  try {
    await waitFor('the agent to open both streams', () => source.subscribers('alerts') === 1 && source.subscribers('logs') === 1)
    const samples = loadSamples()
    source.replay('alerts', samples.alerts)
    source.replay('logs', samples.logs)
    const total = samples.alerts.length + samples.logs.length
    await waitFor('every sample to be stored', () => agent.counters.stored === total)
  } finally {
    await agent.stop()
    await source.stop()
  }
  const db = await openEdgeDb(cfg.data_dir)
  try {
    const samples = loadSamples()
    for (const table of ['alerts', 'logs'] as const) {
      const res = await db.query<{ j: Record<string, unknown> }>(`SELECT row_to_json(t) AS j FROM public.${table} t`)
      compare(table, samples[table], res.rows.map((r) => r.j), 'edge-samples')
    }
  } finally {
    await db.close()
  }
})

test('generated traffic on both streams is stored exactly, with no event lost or duplicated', async () => {
  // A deep queue: this test checks what arrives, not whether a loaded CI machine keeps up (the benchmark does).
  const source = new KubeArmorEventSource({ hosts: ['node-a', 'node-b'], rate: 2000, seed: 7, legacyRatio: 0.05, queueSize: 1_000_000 })
  const sent: Record<'alerts' | 'logs', Event[]> = { alerts: [], logs: [] }
  let capturing = false
  source.onEvent = (table, ev) => {
    if (capturing) sent[table].push(ev)
  }
  await source.start()
  const cfg = edgeConfig(dir.path + '/generated', [source.address], { edge_id: 'edge-gen' })
  const agent = await EdgeAgent.start(cfg, log)
  try {
    await waitFor('the agent to open both streams', () => source.subscribers('alerts') === 1 && source.subscribers('logs') === 1)
    await waitFor('the first events', () => agent.counters.received > 0)
    source.setRate(0)
    await waitFor('the backlog to be stored', () => agent.counters.stored === agent.counters.received && source.stats.sent === agent.counters.received, 10_000)
    const before = agent.counters.stored
    capturing = true
    source.setRate(3000)
    await waitFor('3000 events', () => sent.alerts.length + sent.logs.length >= 3000)
    capturing = false
    source.setRate(0)
    const total = sent.alerts.length + sent.logs.length
    await waitFor('every captured event to be stored', () => agent.counters.stored >= before + total).catch((e: Error) => {
      throw new Error(`${e.message} (stored ${agent.counters.stored - before} of ${total}; received ${agent.counters.received}; source ${JSON.stringify(source.stats)})`)
    })
    assert.equal(source.stats.dropped, 0, 'the source dropped nothing for a slow client')
    assert.ok(agent.sources[0]!.stats.throttleNotices >= 0)
  } finally {
    await agent.stop()
    await source.stop()
  }
  const db = await openEdgeDb(cfg.data_dir)
  try {
    for (const table of ['alerts', 'logs'] as const) {
      const seqs = sent[table].filter((e) => e.EventData).map((e) => (e.EventData as Record<string, string>).Seq)
      const res = await db.query<{ j: Record<string, unknown> }>(
        `SELECT row_to_json(t) AS j FROM public.${table} t WHERE event_data->>'Seq' = ANY($1) OR (event_data IS NULL AND time >= $2)`,
        [seqs, sent[table][0]?.UpdatedTime ?? '2000-01-01'],
      )
      compare(table, sent[table], res.rows.map((r) => r.j), 'edge-gen')
    }
    const dup = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT event_data->>'Seq' FROM alerts WHERE event_data ? 'Seq' UNION ALL SELECT event_data->>'Seq' FROM logs WHERE event_data ? 'Seq') s(seq) GROUP BY seq HAVING count(*) > 1`,
    )
    assert.equal(dup.rows.length, 0, 'no sequence number stored twice')
  } finally {
    await db.close()
  }
})
