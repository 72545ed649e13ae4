import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { statusConditionSchema } from './alert-config.js'
import { diskUsage, StatusWatcher, type DiskUsage, type StatusFiring, type StatusSnapshot } from './status-watcher.js'
import { captureLogger } from '../../test/helpers/capture-logger.js'

const T0 = Date.parse('2025-12-16T05:00:00Z')

/** A watcher over a snapshot and disk figures the test changes between checks. */
function setup(conditions: Record<string, unknown>) {
  const state = {
    now: T0,
    snap: { sources: [], spoolDepth: 0, dataDir: '/data' } as StatusSnapshot,
    disk: { usedPercent: 10, usedBytes: 10, availableBytes: 90 } as DiskUsage | Error,
  }
  const fired: StatusFiring[] = []
  const { log, entries } = captureLogger()
  const watcher = new StatusWatcher({
    rules: Object.entries(conditions).map(([name, c]) => ({ name, condition: statusConditionSchema.parse(c) })),
    snapshot: () => state.snap,
    onFire: (f) => fired.push(f),
    intervalMs: 1000,
    log,
    now: () => state.now,
    diskUsage: async () => {
      if (state.disk instanceof Error) throw state.disk
      return state.disk
    },
  })
  return { state, fired, watcher, logs: entries }
}

test('source_disconnected fires once per source after `for`, not again while down, and again after reconnecting and dropping', async () => {
  const { state, fired, watcher } = setup({ 'source-down': { source_disconnected: { for: '2m' } } })
  const src = (address: string, connected: boolean, since: number) => ({ address, connected, since })
  state.snap = { ...state.snap, sources: [src('a:32767', false, T0), src('b:32767', true, T0)] }
  await watcher.check()
  state.now = T0 + 119_000
  await watcher.check()
  assert.equal(fired.length, 0, 'not before two minutes')
  state.now = T0 + 120_000
  await watcher.check()
  state.now = T0 + 300_000
  await watcher.check()
  assert.equal(fired.length, 1, 'edge-triggered: once while it stays down')
  assert.deepEqual(fired[0], {
    rule: 'source-down',
    summary: 'KubeArmor source a:32767 disconnected for 2m',
    details: { source: 'a:32767', disconnected_since: '2025-12-16T05:00:00.000Z', disconnected_ms: 120_000, for_ms: 120_000 },
  })
  // b drops too: its own alert. a reconnects: cleared.
  state.snap = { ...state.snap, sources: [src('a:32767', true, T0 + 310_000), src('b:32767', false, T0 + 200_000)] }
  state.now = T0 + 320_000
  await watcher.check()
  assert.deepEqual(fired.map((f) => f.details.source), ['a:32767', 'b:32767'])
  state.snap = { ...state.snap, sources: [src('a:32767', false, T0 + 330_000), src('b:32767', false, T0 + 200_000)] }
  state.now = T0 + 450_000
  await watcher.check()
  assert.deepEqual(fired.map((f) => f.details.source), ['a:32767', 'b:32767', 'a:32767'], 'a fires again after it had cleared')
})

test('disk_used_percent fires above the threshold, clears at or below it, and fires again on the next crossing', async () => {
  const { state, fired, watcher, logs } = setup({ 'disk-full': { disk_used_percent: { above: 90 } } })
  const pct = async (usedPercent: number) => {
    state.disk = { usedPercent, usedBytes: Math.round(usedPercent * 1e7), availableBytes: Math.round((100 - usedPercent) * 1e7) }
    await watcher.check()
  }
  await pct(50)
  await pct(90)
  assert.equal(fired.length, 0, 'at the threshold is not above it')
  await pct(93.27)
  await pct(97)
  assert.equal(fired.length, 1)
  assert.equal(fired[0]!.summary, 'data dir filesystem 93.3% full (threshold 90%)')
  assert.deepEqual(fired[0]!.details, { data_dir: '/data', used_percent: 93.3, used_bytes: 932_700_000, available_bytes: 67_300_000, above: 90 })
  await pct(80)
  assert.ok(logs.some((l) => l.message === 'status condition cleared' && l.rule === 'disk-full'))
  await pct(91)
  assert.equal(fired.length, 2)
})

test('disk figures that cannot be read neither fire nor clear, and are warned about once', async () => {
  const { state, fired, watcher, logs } = setup({ 'disk-full': { disk_used_percent: { above: 90 } } })
  state.disk = { usedPercent: 95, usedBytes: 95, availableBytes: 5 }
  await watcher.check()
  state.disk = new Error('EIO')
  await watcher.check()
  await watcher.check()
  state.disk = { usedPercent: 96, usedBytes: 96, availableBytes: 4 }
  await watcher.check()
  assert.equal(fired.length, 1, 'still the same episode')
  assert.equal(logs.filter((l) => l.message === 'cannot read disk usage of the data dir').length, 1)
})

test('spool_depth fires above its threshold and re-fires only after clearing', async () => {
  const { state, fired, watcher } = setup({ 'spool-backlog': { spool_depth: { above: 1000 } } })
  for (const depth of [10, 5000, 8000, 900, 1001]) {
    state.snap = { ...state.snap, spoolDepth: depth }
    await watcher.check()
  }
  assert.deepEqual(
    fired.map((f) => f.details),
    [
      { spool_depth: 5000, above: 1000 },
      { spool_depth: 1001, above: 1000 },
    ],
  )
  assert.equal(fired[0]!.summary, '5000 events waiting in the spool (threshold 1000)')
})

test('a snapshot that throws is logged, and the next check works', async () => {
  const { state, fired, watcher, logs } = setup({ 'spool-backlog': { spool_depth: { above: 1 } } })
  const good = state.snap
  state.snap = undefined as unknown as StatusSnapshot
  await watcher.check()
  assert.ok(logs.some((l) => l.message === 'status check failed'))
  state.snap = { ...good, spoolDepth: 5 }
  await watcher.check()
  assert.equal(fired.length, 1)
})

test('diskUsage reads the filesystem of a directory with statfs', async () => {
  const d = await diskUsage(tmpdir())
  assert.ok(d.usedPercent >= 0 && d.usedPercent <= 100, String(d.usedPercent))
  assert.ok(d.usedBytes + d.availableBytes > 0)
})
