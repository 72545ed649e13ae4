import { test } from 'node:test'
import assert from 'node:assert/strict'
import { eventSummary, formatDuration, rateSummary } from './alert-summary.js'

test('durations read as people write them', () => {
  const cases: [number, string][] = [[250, '250ms'], [1500, '1.5s'], [30_000, '30s'], [60_000, '1m'], [90_000, '1m30s'], [120_000, '2m'], [3_600_000, '1h'], [5_400_000, '1h30m']]
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want)
})

test('an event summary says what, the action, where and the policy, as far as the event has them', () => {
  assert.equal(
    eventSummary({ operation: 'File', resource: '/etc/shadow', action: 'Block', namespace_name: 'prod', pod_name: 'web-1', policy_name: 'protect-shadow' }),
    'File /etc/shadow (Block) in prod/web-1, policy protect-shadow',
  )
  assert.equal(eventSummary({ operation: 'Process', resource: '/usr/bin/sudo', host_name: 'node-7' }), 'Process /usr/bin/sudo on host node-7', 'host events')
  assert.equal(eventSummary({}), 'Event')
  assert.equal(eventSummary({ operation: 'Network', resource: 'x'.repeat(500) }).length, 300, 'cut to 300 characters')
})

test('a rate summary gives the threshold, the window and what was seen', () => {
  assert.equal(rateSummary(100, 60_000, 101, 42_500), 'more than 100 matching events within 1m (101 in 42.5s)')
})
