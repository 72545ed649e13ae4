import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PartitionInfo } from '../store/worker-protocol.js'
import { decideRetention } from './retention-policy.js'

const DAY = 86_400_000
const now = Date.parse('2026-12-06T12:00:00Z')
const parts: PartitionInfo[] = ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06'].flatMap((day) =>
  (['alerts', 'logs'] as const).map((table) => ({ table, day, name: `${table}_${day}`, bytes: table === 'alerts' ? 100 : 900 })),
)
const days = (d: ReturnType<typeof decideRetention>) => [...new Set(d.drop.map((x) => x.part.day))]

test('by age: whole days that ended before now - max_age, both tables', () => {
  const d = decideRetention(parts, { maxAgeMs: 3 * DAY }, now)
  assert.deepEqual(days(d), ['2026-11-30', '2026-12-01', '2026-12-02'])
  assert.equal(d.drop.length, 6)
  assert.equal(d.keptBytes, 4 * 1000)
})

test('by size: the oldest days go until the rest fits; the newest day stays even over budget', () => {
  assert.deepEqual(days(decideRetention(parts, { maxBytes: 3500 }, now)), ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03'])
  const tight = decideRetention(parts, { maxBytes: 10 }, now)
  assert.equal(days(tight).length, 6)
  assert.equal(tight.overBudget, true)
  assert.equal(tight.keptBytes, 1000)
})

test('age and size together; nothing to do leaves everything', () => {
  const d = decideRetention(parts, { maxAgeMs: 5 * DAY, maxBytes: 2500 }, now)
  assert.deepEqual(d.drop.map((x) => x.reason), ['age', 'age', 'size', 'size', 'size', 'size', 'size', 'size', 'size', 'size'])
  assert.deepEqual(decideRetention(parts, { maxAgeMs: 30 * DAY, maxBytes: 1e9 }, now).drop, [])
})

test('by size, today is never dropped, nor a day after it: an event dated in the future does not make today the oldest', () => {
  const future: PartitionInfo[] = [...parts, { table: 'logs', day: '2030-01-01', name: 'logs_2030-01-01', bytes: 10 }]
  const d = decideRetention(future, { maxBytes: 10 }, now)
  assert.deepEqual(days(d), ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05'])
  assert.equal(d.overBudget, true)
  assert.equal(d.keptBytes, 1010)
})
