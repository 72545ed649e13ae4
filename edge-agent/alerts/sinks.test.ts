import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { makeSelfSignedCert } from '../../cli/demo/self-signed-cert.js'
import { freePort } from '../../test/helpers/free-port.js'
import { waitFor } from '../../test/helpers/wait.js'
import type { FiredAlert } from './alert.js'
import { sinkConfigSchema, type SyslogSinkConfig } from './alert-config.js'
import { retryAfterMs } from './http-post.js'
import { DeliveryError } from './sink.js'
import { SlackSink } from './slack-sink.js'
import { SyslogSink } from './syslog-sink.js'
import { parseRfc5424, startHttpReceiver, startSyslogReceiver } from '../../test/helpers/alert-receivers.js'
import { WebhookSink } from './webhook-sink.js'

const alert: FiredAlert = {
  id: '0b6f3c52-2b43-4a8e-8f0e-3f7c1f1b9d10',
  rule: 'shell-in-pod',
  severity: 'high "x" ]\\',
  kind: 'event',
  firedAt: '2025-12-16T05:37:19.127Z',
  edgeId: 'edge-1',
  summary: 'Process /bin/bash <!channel> & friends (Block) in prod/web-1 — ünïcode ✓',
  details: { pod_name: 'web-1', host_pid: 191949, timestamp: 1765863439n },
}

const tmp = mkdtempSync(join(tmpdir(), 'fedgres-sinks-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const webhook = (url: string, extra: Record<string, unknown> = {}) => {
  const cfg = sinkConfigSchema.parse({ type: 'webhook', url, ...extra })
  assert.equal(cfg.type, 'webhook')
  return new WebhookSink('hook', cfg as Extract<typeof cfg, { type: 'webhook' }>)
}

const syslogConfig = (port: number, extra: Record<string, unknown> = {}) =>
  sinkConfigSchema.parse({ type: 'syslog', host: '127.0.0.1', port, ...extra }) as SyslogSinkConfig

async function rejection(p: Promise<void>): Promise<DeliveryError> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof DeliveryError, `a DeliveryError, not ${String(e)}`)
    return e
  }
  assert.fail('the send should have failed')
}

test('webhook: POSTs the alert object as JSON with the configured headers', async () => {
  const rx = await startHttpReceiver()
  try {
    await webhook(rx.url, { headers: { Authorization: 'Bearer s3cret', 'X-Tenant': 'blue' } }).send(alert)
    assert.equal(rx.requests.length, 1)
    const got = rx.requests[0]!
    assert.equal(got.method, 'POST')
    assert.equal(got.url, '/hook')
    assert.equal(got.headers['content-type'], 'application/json')
    assert.equal(got.headers.authorization, 'Bearer s3cret')
    assert.equal(got.headers['x-tenant'], 'blue')
    assert.deepEqual(got.body, { ...alert, details: { pod_name: 'web-1', host_pid: 191949, timestamp: 1765863439 } })
  } finally {
    await rx.close()
  }
})

test('webhook: 5xx, 408 and 429 are transient (with Retry-After), other statuses are rejections', async () => {
  let answer = { status: 500, headers: {} as Record<string, string> }
  const rx = await startHttpReceiver(0, () => answer)
  try {
    const sink = webhook(rx.url)
    assert.equal((await rejection(sink.send(alert))).failure, 'transient')
    answer = { status: 408, headers: {} }
    assert.equal((await rejection(sink.send(alert))).failure, 'transient')
    answer = { status: 429, headers: { 'retry-after': '7' } }
    const limited = await rejection(sink.send(alert))
    assert.deepEqual([limited.failure, limited.retryAfterMs], ['transient', 7000])
    for (const status of [400, 401, 404, 410]) {
      answer = { status, headers: {} }
      const err = await rejection(sink.send(alert))
      assert.equal(err.failure, 'rejected', String(status))
      assert.match(err.message, new RegExp(`answered ${status}`))
    }
    answer = { status: 302, headers: { location: 'http://elsewhere/' } }
    const moved = await rejection(sink.send(alert))
    assert.equal(moved.failure, 'rejected', 'a redirect is not followed: it would turn the POST into a GET')
    assert.match(moved.message, /redirects to http:\/\/elsewhere\//)
    assert.equal(rx.requests.length, 0)
  } finally {
    await rx.close()
  }
})

test('webhook: a receiver that is down or does not answer in time is a transient failure; the URL path stays out of the message', async () => {
  const port = await freePort()
  const down = await rejection(webhook(`http://127.0.0.1:${port}/services/T0/B0/SECRET`).send(alert))
  assert.equal(down.failure, 'transient')
  assert.match(down.message, /ECONNREFUSED/)
  assert.doesNotMatch(down.message, /SECRET/)
  // A receiver that accepts the connection but never answers.
  const silent = createServer(() => {})
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
  try {
    const silentPort = (silent.address() as { port: number }).port
    const timedOut = await rejection(webhook(`http://127.0.0.1:${silentPort}/`, { timeout: '150ms' }).send(alert))
    assert.equal(timedOut.failure, 'transient')
    assert.match(timedOut.message, /no answer within 150 ms/)
  } finally {
    silent.close()
  }
})

test('Retry-After may be seconds or an HTTP-date', () => {
  assert.equal(retryAfterMs('120'), 120_000)
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000)
  assert.equal(retryAfterMs('soon'), undefined)
  assert.equal(retryAfterMs(null), undefined)
})

test('slack: posts {text, blocks} with rule, edge and summary, Slack markup escaped', async () => {
  const rx = await startHttpReceiver()
  try {
    const cfg = sinkConfigSchema.parse({ type: 'slack', url: rx.url })
    await new SlackSink('chat', cfg as Extract<typeof cfg, { type: 'slack' }>).send(alert)
    const body = rx.requests[0]!.body as { text: string; blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[] }
    assert.equal(
      body.text,
      '[fedgres] shell-in-pod (high "x" ]\\) on edge edge-1: Process /bin/bash &lt;!channel&gt; &amp; friends (Block) in prod/web-1 — ünïcode ✓',
    )
    assert.equal(body.blocks[0]!.type, 'section')
    assert.equal(body.blocks[0]!.text!.type, 'mrkdwn')
    assert.match(body.blocks[0]!.text!.text, /^\*shell-in-pod\* \(high "x" \]\\\) on edge `edge-1`\nProcess \/bin\/bash &lt;!channel&gt;/)
    assert.equal(body.blocks[1]!.type, 'context')
    assert.match(body.blocks[1]!.elements![0]!.text, new RegExp(alert.id))
  } finally {
    await rx.close()
  }
})

test('syslog over TCP: one octet-counted RFC 5424 frame per alert, on one connection', async () => {
  const rx = await startSyslogReceiver()
  const sink = new SyslogSink('siem', syslogConfig(rx.port), 'node-7.example')
  try {
    await sink.send(alert)
    await sink.send({ ...alert, id: 'second', severity: undefined })
    await waitFor('two frames', () => rx.frames.length === 2)
    assert.equal(rx.connections(), 1)
    const p = parseRfc5424(rx.frames[0]!)
    assert.equal(p.pri, 13 * 8 + 4, 'facility 13 (log audit) by default; an unknown severity word is warning')
    assert.equal(p.version, '1')
    assert.equal(p.timestamp, '2025-12-16T05:37:19.127Z')
    assert.match(p.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/, 'RFC 5424 §6.2.3 TIMESTAMP')
    assert.equal(p.hostname, 'node-7.example')
    assert.equal(p.appName, 'fedgres-edge')
    assert.equal(p.procId, String(process.pid))
    assert.equal(p.msgId, 'shell-in-pod')
    assert.deepEqual(p.sd, { 'fedgres@32473': { id: alert.id, rule: 'shell-in-pod', edge: 'edge-1', kind: 'event', severity: 'high "x" ]\\' } })
    assert.ok(rx.frames[0]!.includes('severity="high \\"x\\" \\]\\\\"'), 'the raw frame carries the §6.3.3 escapes')
    assert.equal(p.bom, true)
    assert.equal(p.msg, `${alert.summary} {"pod_name":"web-1","host_pid":191949,"timestamp":1765863439}`)
    const second = parseRfc5424(rx.frames[1]!)
    assert.equal(second.sd['fedgres@32473']!.id, 'second')
    assert.equal(second.sd['fedgres@32473']!.severity, undefined, 'no severity param without a severity')
  } finally {
    sink.close()
    await rx.close()
  }
})

test('syslog: facility, app name, SD-ID and BOM follow the config; a collector that hung up gets the next alert on a new connection', async () => {
  const rx = await startSyslogReceiver()
  const sink = new SyslogSink('siem', syslogConfig(rx.port, { facility: 4, app_name: 'kubearmor-alerts', sd_id: 'fedgres@99999', bom: false }), 'n')
  try {
    await sink.send({ ...alert, severity: '9' })
    await waitFor('first frame', () => rx.frames.length === 1)
    assert.equal(sink.connected, true)
    rx.dropConnections()
    await waitFor('the sink to see the hang-up and drop its end', () => !sink.connected)
    await sink.send({ ...alert, severity: 'debug' })
    await waitFor('second frame', () => rx.frames.length === 2)
    assert.equal(rx.connections(), 2)
    const [a, b] = rx.frames.map((f) => parseRfc5424(f))
    assert.equal(a!.pri, 4 * 8 + 2, 'KubeArmor severity 9 is critical')
    assert.equal(b!.pri, 4 * 8 + 7)
    assert.equal(a!.appName, 'kubearmor-alerts')
    assert.ok(a!.sd['fedgres@99999'])
    assert.equal(a!.bom, false)
  } finally {
    sink.close()
    await rx.close()
  }
})

test('syslog: a collector that is down is a transient failure', async () => {
  const port = await freePort()
  const err = await rejection(new SyslogSink('siem', syslogConfig(port), 'n').send(alert))
  assert.equal(err.failure, 'transient')
  assert.match(err.message, new RegExp(`tcp://127.0.0.1:${port}: ECONNREFUSED`))
})

test('syslog over TLS (RFC 5425) checks the collector against the configured CA', async () => {
  const { cert, key } = makeSelfSignedCert()
  const caFile = join(tmp, 'collector.pem')
  writeFileSync(caFile, cert)
  const rx = await startSyslogReceiver({ tls: { cert, key } })
  const trusting = new SyslogSink('siem', syslogConfig(rx.port, { tls: { ca: caFile } }), 'n')
  const untrusting = new SyslogSink('siem', syslogConfig(rx.port, { tls: true }), 'n')
  try {
    await trusting.send(alert)
    await waitFor('a frame over TLS', () => rx.frames.length === 1)
    assert.equal(parseRfc5424(rx.frames[0]!).sd['fedgres@32473']!.id, alert.id)
    const err = await rejection(untrusting.send(alert))
    assert.equal(err.failure, 'transient')
    assert.match(err.message, /self[- ]signed|SELF_SIGNED/i)
  } finally {
    trusting.close()
    untrusting.close()
    await rx.close()
  }
})
