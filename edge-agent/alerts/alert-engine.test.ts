import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type client from 'prom-client'
import { freePort } from '../../test/helpers/free-port.js'
import { sleep, waitFor } from '../../test/helpers/wait.js'
import type { FiredAlert } from './alert.js'
import { alertRuleSchema, sinkConfigSchema, type SinkConfig } from './alert-config.js'
import { AlertEngine, type AlertEngineOptions } from './alert-engine.js'
import type { StatusSnapshot } from './status-watcher.js'
import { parseRfc5424, startHttpReceiver, startSyslogReceiver, type HttpReceiver } from '../../test/helpers/alert-receivers.js'
import { captureLogger } from '../../test/helpers/capture-logger.js'

const root = mkdtempSync(join(tmpdir(), 'fedgres-alert-engine-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => join(root, `d${++dirs}`)

const NOW = Date.parse('2025-12-16T05:37:19.127Z')
/** Retries every 20–100 ms, so an outage in a test costs little. */
const fast = { backoff_base: 20, backoff_cap: 100 }

const event = {
  time: '2025-12-16T05:37:19.127331Z',
  edge_id: 'edge-1',
  namespace_name: 'prod',
  pod_name: 'web-1',
  operation: 'Process',
  resource: '/bin/bash -i',
  action: 'Block',
  policy_name: 'block-shell',
  host_pid: 4242,
  timestamp: 1765863439n,
}

const rule = (name: string, extra: Record<string, unknown> = {}) => alertRuleSchema.parse({ name, when: { event: { table: 'alerts' } }, ...extra })
const hook = (url: string): SinkConfig => sinkConfigSchema.parse({ type: 'webhook', url, timeout: '2s' })

function engine(opts: Partial<AlertEngineOptions> & Pick<AlertEngineOptions, 'dir' | 'rules' | 'sinks'>) {
  const { log, entries } = captureLogger()
  const e = new AlertEngine({ edgeId: 'edge-1', log, delivery: fast, ...opts })
  return { engine: e, logs: entries }
}

async function metric(registry: client.Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await registry.getSingleMetric(name)!.get()
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0)
}

const bodies = (rx: HttpReceiver) => rx.requests.map((r) => r.body as FiredAlert)

test('an event rule sends one alert, with the event as details, to each of its sinks: webhook, Slack and syslog', async () => {
  const web = await startHttpReceiver()
  const slack = await startHttpReceiver()
  const syslog = await startSyslogReceiver()
  const { engine: e } = engine({
    dir: freshDir(),
    now: () => NOW,
    rules: [rule('shell-in-pod', { severity: 'critical', sinks: ['ops', 'chat', 'siem'] })],
    sinks: {
      ops: hook(web.url),
      chat: sinkConfigSchema.parse({ type: 'slack', url: slack.url }),
      siem: sinkConfigSchema.parse({ type: 'syslog', host: '127.0.0.1', port: syslog.port }),
    },
  })
  try {
    const seen: [FiredAlert, number, readonly string[]][] = []
    e.onFired((a, seq, sinks) => seen.push([a, seq, sinks]))
    e.start()
    e.eventMatched('shell-in-pod', event)
    await waitFor('all three sinks', () => web.requests.length === 1 && slack.requests.length === 1 && syslog.frames.length === 1)
    const sent = bodies(web)[0]!
    assert.match(sent.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.deepEqual(sent, {
      id: sent.id,
      rule: 'shell-in-pod',
      severity: 'critical',
      kind: 'event',
      firedAt: '2025-12-16T05:37:19.127Z',
      edgeId: 'edge-1',
      summary: 'Process /bin/bash -i (Block) in prod/web-1, policy block-shell',
      details: { ...event, timestamp: 1765863439 },
    })
    assert.match((slack.requests[0]!.body as { text: string }).text, /^\[fedgres\] shell-in-pod \(critical\) on edge edge-1: Process \/bin\/bash -i/)
    const frame = parseRfc5424(syslog.frames[0]!)
    assert.equal(frame.sd['fedgres@32473']!.id, sent.id)
    assert.equal(frame.pri, 13 * 8 + 2)
    assert.equal(seen.length, 1)
    assert.equal(seen[0]![0].id, sent.id, 'onFired sees the same alert')
    assert.deepEqual(seen[0]![2], ['ops', 'chat', 'siem'])
    assert.deepEqual(e.firedSince(0).map((r) => r.alert.id), [sent.id])
    assert.deepEqual(e.firedSince(seen[0]![1]), [])
    await waitFor('delivered counts', async () => (await metric(e.registry, 'fedgres_edge_alerts_delivered_total')) === 3)
    assert.equal(await metric(e.registry, 'fedgres_edge_alerts_fired_total', { rule: 'shell-in-pod' }), 1)
    assert.equal(e.pendingDeliveries, 0)
  } finally {
    await e.stop()
    await Promise.all([web.close(), slack.close(), syslog.close()])
  }
})

test('a webhook that is down at first gets the alert once it comes up', async () => {
  const port = await freePort()
  const { engine: e, logs } = engine({ dir: freshDir(), rules: [rule('r', { sinks: ['ops'] })], sinks: { ops: hook(`http://127.0.0.1:${port}/hook`) } })
  e.start()
  e.eventMatched('r', event)
  await waitFor('a few failed attempts', async () => (await metric(e.registry, 'fedgres_edge_alert_delivery_failures_total', { sink: 'ops', reason: 'transient' })) >= 3)
  assert.equal(await metric(e.registry, 'fedgres_edge_alert_deliveries_pending', { sink: 'ops' }), 1)
  assert.equal(logs.filter((l) => l.message === 'alert not delivered; will retry' && l.level === 'warn').length, 1, 'one warning per outage, not per retry')
  const rx = await startHttpReceiver(port)
  try {
    await waitFor('the alert', () => rx.requests.length === 1)
    await waitFor("the receiver's answer to settle it", () => e.pendingDeliveries === 0)
    assert.ok(logs.some((l) => l.message === 'alert sink recovered'))
  } finally {
    await e.stop()
    await rx.close()
  }
})

test('after a restart, undelivered alerts are sent by the new engine over the same dir, and delivered ones are not sent again', async () => {
  const dir = freshDir()
  const port = await freePort()
  const opts = { dir, rules: [rule('r', { sinks: ['ops'] })], sinks: { ops: hook(`http://127.0.0.1:${port}/hook`) } }
  const fired: string[] = []

  const first = engine(opts).engine
  first.onFired((a) => fired.push(a.id))
  first.start()
  first.eventMatched('r', { ...event, pod_name: 'a' })
  await waitFor('a failed attempt', async () => (await metric(first.registry, 'fedgres_edge_alert_delivery_failures_total')) >= 1)
  await first.stop()

  const rx = await startHttpReceiver(port)
  try {
    const second = engine(opts).engine
    second.onFired((a) => fired.push(a.id))
    second.start()
    await waitFor('the alert from before the restart', () => rx.requests.length === 1)
    assert.equal(bodies(rx)[0]!.id, fired[0])
    second.eventMatched('r', { ...event, pod_name: 'b' })
    await waitFor('a new alert', () => rx.requests.length === 2)
    await second.stop()

    const third = engine(opts).engine
    third.start()
    await sleep(300) // ample time for any resend at 20–100 ms backoff
    assert.equal(third.pendingDeliveries, 0)
    await third.stop()
    assert.deepEqual(bodies(rx).map((b) => b.id), fired, 'each alert exactly once')
    assert.deepEqual(bodies(rx).map((b) => b.details.pod_name), ['a', 'b'])
  } finally {
    await rx.close()
  }
})

test('rate_limit max 3 per window: of 10 hits 3 alerts are delivered and 7 suppressed, logged once with the count', async () => {
  const rx = await startHttpReceiver()
  const { engine: e, logs } = engine({ dir: freshDir(), now: () => NOW, rules: [rule('noisy', { sinks: ['ops'], rate_limit: { max: 3, per: '1m' } })], sinks: { ops: hook(rx.url) } })
  try {
    e.start()
    for (let i = 0; i < 10; i++) e.eventMatched('noisy', { ...event, host_pid: i })
    await waitFor('3 deliveries', () => rx.requests.length === 3)
    await sleep(100)
    assert.deepEqual(bodies(rx).map((b) => b.details.host_pid).sort(), [0, 1, 2])
    assert.equal(await metric(e.registry, 'fedgres_edge_alerts_fired_total', { rule: 'noisy' }), 3)
    assert.equal(await metric(e.registry, 'fedgres_edge_alerts_suppressed_total', { rule: 'noisy' }), 7)
  } finally {
    await e.stop()
    await rx.close()
  }
  const suppressed = logs.filter((l) => l.message === 'alerts suppressed by rate limit')
  assert.equal(suppressed.length, 1)
  assert.equal(suppressed[0]!.suppressed, 7)
  assert.equal(suppressed[0]!.rule, 'noisy')
})

test('a rate rule fires one alert when more than `count` hits fall within the window, with the counts as details', async () => {
  const rx = await startHttpReceiver()
  let now = NOW
  const { engine: e } = engine({
    dir: freshDir(),
    now: () => now,
    rules: [alertRuleSchema.parse({ name: 'exec-burst', when: { rate: { event: {}, count: 3, window: '10s' } }, sinks: ['ops'] })],
    sinks: { ops: hook(rx.url) },
  })
  try {
    e.start()
    for (let i = 0; i < 8; i++) {
      e.eventMatched(0, { ...event, host_pid: i })
      now += 500
    }
    await waitFor('the alert', () => rx.requests.length === 1)
    await sleep(100)
    assert.equal(rx.requests.length, 1, 'once per window, not once per event past the count')
    const a = bodies(rx)[0]!
    assert.equal(a.kind, 'rate')
    assert.equal(a.summary, 'more than 3 matching events within 10s (4 in 1.5s)')
    assert.deepEqual(a.details, {
      count: 3,
      window_ms: 10_000,
      hits: 4,
      first_hit_at: new Date(NOW).toISOString(),
      last_hit_at: new Date(NOW + 1500).toISOString(),
      event: { ...event, host_pid: 3, timestamp: 1765863439 },
    })
  } finally {
    await e.stop()
    await rx.close()
  }
})

test('a status rule fires from the agent status, once per crossing', async () => {
  const rx = await startHttpReceiver()
  let snap: StatusSnapshot = { sources: [], spoolDepth: 0, dataDir: '/data' }
  const { engine: e, logs } = engine({
    dir: freshDir(),
    rules: [alertRuleSchema.parse({ name: 'backlog', when: { status: { spool_depth: { above: 100 } } }, severity: 'warning', sinks: ['ops'] })],
    sinks: { ops: hook(rx.url) },
    statusSnapshot: () => snap,
    statusInterval: 20,
  })
  try {
    e.start()
    snap = { ...snap, spoolDepth: 500 }
    await waitFor('the alert', () => rx.requests.length === 1)
    await sleep(100)
    snap = { ...snap, spoolDepth: 0 }
    await waitFor('the condition to clear', () => logs.some((l) => l.message === 'status condition cleared'))
    snap = { ...snap, spoolDepth: 101 }
    await waitFor('the second crossing', () => rx.requests.length === 2)
    assert.deepEqual(
      bodies(rx).map((b) => [b.kind, b.rule, b.severity, b.details.spool_depth]),
      [
        ['status', 'backlog', 'warning', 500],
        ['status', 'backlog', 'warning', 101],
      ],
    )
  } finally {
    await e.stop()
    await rx.close()
  }
})

test('an alert the receiver rejects goes to the back of the line: the next one is delivered, and it is retried', async () => {
  let acceptPoison = false
  const rx = await startHttpReceiver(0, (req) => ({ status: (req.body as FiredAlert).details.pod_name === 'poison' && !acceptPoison ? 400 : 200 }))
  const { engine: e, logs } = engine({ dir: freshDir(), rules: [rule('r', { sinks: ['ops'] })], sinks: { ops: hook(rx.url) } })
  try {
    e.start()
    e.eventMatched('r', { ...event, pod_name: 'poison' })
    e.eventMatched('r', { ...event, pod_name: 'fine' })
    await waitFor('the good alert', () => rx.requests.length === 1)
    assert.equal(bodies(rx)[0]!.details.pod_name, 'fine')
    await waitFor('two rejections', async () => (await metric(e.registry, 'fedgres_edge_alert_delivery_failures_total', { reason: 'rejected' })) >= 2)
    assert.ok(logs.some((l) => l.message === 'alert not delivered; will retry' && l.failure === 'rejected' && String(l.error).includes('answered 400')))
    acceptPoison = true
    await waitFor('the rejected alert, once accepted', () => rx.requests.length === 2)
    assert.equal(bodies(rx)[1]!.details.pod_name, 'poison')
  } finally {
    await e.stop()
    await rx.close()
  }
})

test('past max_queued the oldest undelivered alerts are dropped, counted and warned about', async () => {
  const port = await freePort()
  const { engine: e, logs } = engine({
    dir: freshDir(),
    rules: [rule('r', { sinks: ['ops'] })],
    sinks: { ops: hook(`http://127.0.0.1:${port}/hook`) },
    delivery: { ...fast, max_queued: 5 },
  })
  e.start()
  for (let i = 0; i < 8; i++) e.eventMatched('r', { ...event, host_pid: i })
  const rx = await startHttpReceiver(port)
  try {
    await waitFor('the 5 kept alerts', () => rx.requests.length === 5)
    await sleep(100)
    assert.deepEqual(bodies(rx).map((b) => b.details.host_pid), [3, 4, 5, 6, 7])
    assert.equal(await metric(e.registry, 'fedgres_edge_alerts_dropped_total', { reason: 'queue_full' }), 3)
    assert.equal(await metric(e.registry, 'fedgres_edge_alerts_fired_total'), 8)
  } finally {
    await e.stop()
    await rx.close()
  }
  const warned = logs.filter((l) => l.message === 'alert outbox full; oldest undelivered alerts dropped')
  assert.equal(warned.reduce((n, l) => n + Number(l.dropped), 0), 3)
})

test('eventMatched does not throw or fire for unknown rules, status rules or after stop; a failing listener does not stop delivery', async () => {
  const rx = await startHttpReceiver()
  const { engine: e, logs } = engine({
    dir: freshDir(),
    rules: [rule('r', { sinks: ['ops'] }), alertRuleSchema.parse({ name: 's', when: { status: { spool_depth: { above: 1 } } } })],
    sinks: { ops: hook(rx.url) },
    statusSnapshot: () => ({ sources: [], spoolDepth: 0, dataDir: '/data' }),
  })
  try {
    e.onFired(() => {
      throw new Error('listener bug')
    })
    e.start()
    e.eventMatched('nope', event)
    e.eventMatched('nope', event)
    e.eventMatched(7, event)
    e.eventMatched('s', event)
    e.eventMatched('r', event)
    await waitFor('the one real alert', () => rx.requests.length === 1)
    assert.equal(logs.filter((l) => l.message === 'hit for an unknown alert rule ignored').length, 2, "once per unknown rule ('nope', 7)")
    assert.equal(logs.filter((l) => l.message === 'status rules are not driven by events; hit ignored').length, 1)
    assert.ok(logs.some((l) => l.message === 'onFired listener failed'))
  } finally {
    await e.stop()
    await rx.close()
  }
  e.eventMatched('r', event)
  assert.equal(await metric(e.registry, 'fedgres_edge_alerts_fired_total', { rule: 'r' }), 1)
})

test('the engine refuses rules that name undefined sinks, and status rules without the agent status', () => {
  const { log } = captureLogger()
  assert.throws(() => new AlertEngine({ edgeId: 'e', dir: freshDir(), log, rules: [rule('r', { sinks: ['ghost'] })], sinks: {} }), /alert rule 'r' names sink 'ghost', which is not defined/)
  const status = alertRuleSchema.parse({ name: 'down', when: { status: { source_disconnected: { for: '1m' } } } })
  assert.throws(() => new AlertEngine({ edgeId: 'e', dir: freshDir(), log, rules: [status], sinks: {} }), /status rules \(down\) need the agent's status/)
})
