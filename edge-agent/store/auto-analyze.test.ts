import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AutoAnalyze, STATISTICS_TARGET } from './auto-analyze.js'

test('a relation never analyzed is due at once; one with statistics after 50 rows + 10% changed', () => {
  const a = new AutoAnalyze(0)
  a.track('fedgres_parts.logs_p20261001', 1000, true)
  a.track('public.logs', 1000, false, true)
  const first = a.next(0)
  assert.deepEqual(first, { name: 'public.logs', sql: `BEGIN; SET LOCAL default_statistics_target = ${STATISTICS_TARGET}; ANALYZE ONLY public.logs; COMMIT` })
  a.done('public.logs', 0)
  assert.equal(a.next(1), null)
  a.note('fedgres_parts.logs_p20261001', 149)
  assert.equal(a.next(2), null, '149 < 50 + 10% of 1000')
  a.note('fedgres_parts.logs_p20261001', 1)
  assert.equal(a.next(3)?.name, 'fedgres_parts.logs_p20261001')
  assert.match(a.next(3)!.sql, /ANALYZE fedgres_parts\.logs_p20261001;/)
  a.done('fedgres_parts.logs_p20261001', 3)
  // Its new baseline is 1150 rows: 165 more are needed.
  a.note('fedgres_parts.logs_p20261001', 164)
  assert.equal(a.next(4), null)
  a.note('fedgres_parts.logs_p20261001', 1)
  assert.equal(a.next(5)?.name, 'fedgres_parts.logs_p20261001')
})

test('a new partition is analyzed from its first 50 rows; removals count as changes; the most changed goes first', () => {
  const a = new AutoAnalyze(0)
  a.note('fedgres_parts.alerts_p20261002', 49)
  assert.equal(a.next(0), null)
  a.note('fedgres_parts.alerts_p20261002', 1)
  a.track('public.alerts', 10_000, true, true)
  a.note('public.alerts', -2000, true)
  assert.equal(a.next(0)?.name, 'public.alerts')
  a.done('public.alerts', 0)
  assert.equal(a.next(0)?.name, 'fedgres_parts.alerts_p20261002')
  a.forget('fedgres_parts.alerts_p20261002')
  assert.equal(a.next(0), null)
})

test('a relation is analyzed at most once per gap, however fast rows arrive', () => {
  const a = new AutoAnalyze(5000)
  a.note('fedgres_parts.logs_p20261003', 100)
  assert.ok(a.next(0))
  a.done('fedgres_parts.logs_p20261003', 0)
  a.note('fedgres_parts.logs_p20261003', 10_000)
  assert.equal(a.next(4999), null)
  assert.equal(a.waitMs(4999), 1, 'the worker is told when to come back')
  assert.ok(a.next(5000))
  a.done('fedgres_parts.logs_p20261003', 5000)
  assert.equal(a.waitMs(6000), null, 'nothing has changed enough')
})
