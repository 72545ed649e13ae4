import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RateCondition } from './rate-condition.js'

/** The times (in s) at which hit() returned true, for hits at `times` (in s). */
const firesAt = (count: number, windowS: number, times: number[]) => {
  const c = new RateCondition({ count, window: windowS * 1000 })
  return times.filter((t) => c.hit(t * 1000))
}
const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step)

test('fires on the hit that makes more than `count` within the window, not before', () => {
  assert.deepEqual(firesAt(3, 10, [0, 1, 2]), [])
  assert.deepEqual(firesAt(3, 10, [0, 1, 2, 3]), [3])
})

test('hits spread wider than the window never fire', () => {
  assert.deepEqual(firesAt(3, 10, range(0, 100, 4)), [], 'one hit every 4 s is at most 3 in any 10 s')
})

test('a hit exactly `window` old has left the window', () => {
  assert.deepEqual(firesAt(1, 1, [0, 1]), [])
  assert.deepEqual(firesAt(1, 1, [0, 0.999]), [0.999])
})

test('a burst fires once, not on every later event of the burst', () => {
  assert.deepEqual(firesAt(3, 10, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), [0.3])
})

test('a storm that goes on fires once per window', () => {
  assert.deepEqual(firesAt(3, 10, range(0, 35)), [3, 13, 23, 33])
})

test('after the window since firing, it fires again only when the count is exceeded again', () => {
  // Fired at 3. At 13 only the hits at 12 and 13 are in (3, 13]; at 15 there are 4 (12 to 15) in (5, 15].
  assert.deepEqual(firesAt(3, 10, [0, 1, 2, 3, 12, 13, 14, 15]), [3, 15])
})

test('lastHits spans the count+1 hits that tipped it', () => {
  const c = new RateCondition({ count: 2, window: 10_000 })
  for (const t of [1000, 5000, 6000]) c.hit(t)
  assert.deepEqual(c.lastHits, { first: 1000, last: 6000, hits: 3 })
  c.hit(7000)
  assert.deepEqual(c.lastHits, { first: 5000, last: 7000, hits: 3 })
})
