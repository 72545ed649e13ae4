import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backoffDelay } from './backoff.js'

const policy = { baseMs: 1000, capMs: 300_000 }

test('the n-th failure waits between half and all of base·2^(n-1)', () => {
  const bounds = (n: number) => [backoffDelay(policy, n, () => 0), backoffDelay(policy, n, () => 1)]
  assert.deepEqual(bounds(1), [500, 1000])
  assert.deepEqual(bounds(2), [1000, 2000])
  assert.deepEqual(bounds(5), [8000, 16_000])
})

test('delays stop growing at the cap, even after very many failures', () => {
  assert.deepEqual([backoffDelay(policy, 10, () => 0), backoffDelay(policy, 10, () => 1)], [150_000, 300_000])
  assert.equal(backoffDelay(policy, 10_000, () => 1), 300_000)
})

test('jitter spreads the delays of one failure count', () => {
  const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(policy, 3)))
  assert.ok(delays.size > 10)
  for (const d of delays) assert.ok(d >= 2000 && d <= 4000, String(d))
})
