import { test } from 'node:test'
import assert from 'node:assert/strict'
import { waitFor } from '../../test/helpers/wait.js'
import { RateLimiter } from './rate-limit.js'

test('max 3 per window: 10 alerts in one window → 3 allowed, 7 suppressed and reported once', () => {
  const reports: [number, number][] = []
  const limiter = new RateLimiter(3, 60_000, (n, start) => reports.push([n, start]))
  const allowed = Array.from({ length: 10 }, (_, i) => limiter.allow(1000 + i * 100))
  assert.deepEqual(allowed, [true, true, true, false, false, false, false, false, false, false])
  assert.deepEqual(reports, [], 'not reported while the window is open')
  limiter.flush()
  assert.deepEqual(reports, [[7, 1000]])
  limiter.flush()
  assert.equal(reports.length, 1, 'reported once')
})

test('the window opens at the first alert after the last one closed; reaching it reports the last', () => {
  const reports: [number, number][] = []
  const limiter = new RateLimiter(2, 10_000, (n, start) => reports.push([n, start]))
  const at = (t: number) => limiter.allow(t)
  assert.deepEqual([at(5000), at(6000), at(7000), at(14_999)], [true, true, false, false])
  assert.deepEqual([at(15_000), at(15_001), at(15_002)], [true, true, false], 'a new window from 15 s, not from a clock boundary')
  assert.deepEqual(reports, [[2, 5000]])
  limiter.flush()
  assert.deepEqual(reports, [[2, 5000], [1, 15_000]])
})

test('a window that suppressed alerts reports by timer when it ends, with no further alerts', async () => {
  const reports: number[] = []
  const limiter = new RateLimiter(1, 80, (n) => reports.push(n))
  const now = Date.now()
  limiter.allow(now)
  limiter.allow(now + 1)
  limiter.allow(now + 2)
  assert.deepEqual(reports, [])
  await waitFor('the window to end', () => reports.length === 1, 2000, 10)
  assert.deepEqual(reports, [2])
})
