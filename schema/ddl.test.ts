import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDayPartition, nextDay } from './ddl.js'

test('the day after a day is written as PostgreSQL reads a date, past the year 9999 too', () => {
  assert.equal(nextDay('2026-12-07'), '2026-12-08')
  assert.equal(nextDay('2024-02-28'), '2024-02-29')
  assert.equal(nextDay('2026-12-31'), '2027-01-01')
  assert.equal(nextDay('0050-06-01'), '0050-06-02')
  // toISOString() wrote '+010000-01-01', which PostgreSQL refuses: one such event stopped every commit.
  assert.equal(nextDay('9999-12-31'), '10000-01-01')
  assert.match(createDayPartition('logs', '9999-12-31'), /FROM \('9999-12-31 00:00:00\+00'\) TO \('10000-01-01 00:00:00\+00'\)/)
})
