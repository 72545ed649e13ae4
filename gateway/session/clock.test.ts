import assert from 'node:assert/strict'
import { test } from 'node:test'
import { clockMicros, timestampText } from './clock.js'

test('timestamps are written to the microsecond, in UTC', () => {
  assert.equal(timestampText(1_700_000_000_123_456), '2023-11-14 22:13:20.123456+00')
  assert.equal(timestampText(1_700_000_000_000_007), '2023-11-14 22:13:20.000007+00')
})

test('the clock agrees with the wall clock and does not go back', () => {
  const a = clockMicros()
  const b = clockMicros()
  assert.ok(b >= a)
  assert.ok(Math.abs(a / 1000 - Date.now()) < 50)
})
