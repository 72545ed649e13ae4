import { test } from 'node:test'
import assert from 'node:assert/strict'
import YAML from 'yaml'
import { ConfigError, validateConfig } from '../../common/config.js'
import { alertsConfigSchema } from './alert-config.js'

const parse = (yaml: string) => validateConfig(alertsConfigSchema, YAML.parse(yaml), 'test')
const problems = (yaml: string): string => {
  try {
    parse(yaml)
  } catch (e) {
    assert.ok(e instanceof ConfigError)
    return e.message
  }
  assert.fail('expected a configuration error')
}

test('a full config parses, with durations in milliseconds and defaults filled in', () => {
  const cfg = parse(`
sinks:
  ops: { type: webhook, url: "https://ops.example/hook", headers: { Authorization: Bearer x } }
  chat: { type: slack, url: "https://hooks.slack.com/services/T0/B0/XXXX" }
  siem: { type: syslog, host: siem.example, port: 6514, tls: { ca: /etc/ca.pem } }
rules:
  - name: shell-in-pod
    when: { event: { table: alerts, where: { process_name: /bin/bash } } }
    severity: critical
    sinks: [ops, chat, siem]
    rate_limit: { max: 10, per: 1m }
  - name: exec-burst
    when: { rate: { event: { table: logs }, count: 100, window: 30s } }
  - name: source-down
    when: { status: { source_disconnected: { for: 2m } } }
    sinks: [ops]
delivery: { backoff_base: 500ms }
`)
  assert.deepEqual(cfg.sinks.ops, { type: 'webhook', url: 'https://ops.example/hook', headers: { Authorization: 'Bearer x' }, timeout: 10_000 })
  assert.deepEqual(cfg.sinks.siem, {
    type: 'syslog', host: 'siem.example', port: 6514, tls: { ca: '/etc/ca.pem' },
    facility: 13, app_name: 'fedgres-edge', sd_id: 'fedgres@32473', bom: true, timeout: 10_000,
  })
  assert.deepEqual(cfg.rules[0]!.when.event, { table: 'alerts', where: { process_name: '/bin/bash' } }, 'the matcher spec passes through untouched')
  assert.deepEqual(cfg.rules[0]!.rate_limit, { max: 10, per: 60_000 })
  assert.deepEqual(cfg.rules[1]!.when.rate, { event: { table: 'logs' }, count: 100, window: 30_000 })
  assert.deepEqual(cfg.rules[1]!.sinks, [], 'no sinks: recorded only')
  assert.deepEqual(cfg.rules[2]!.when.status, { source_disconnected: { for: 120_000 } })
  assert.deepEqual(cfg.delivery, { backoff_base: 500, backoff_cap: 300_000, max_queued: 10_000 })
  assert.equal(cfg.status_interval, 5000)
})

test('an empty alerts section is valid: no sinks, no rules', () => {
  assert.deepEqual(parse('{}'), { sinks: {}, rules: [], delivery: { backoff_base: 1000, backoff_cap: 300_000, max_queued: 10_000 }, status_interval: 5000 })
})

test('mistakes name the key and say what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['rules: [{ name: r, when: { event: {} }, sinks: [nope] }]', /'rules\.0\.sinks\.0': no sink named 'nope' \(no sinks are defined\)/],
    ['sinks: { a: { type: slack, url: "http://x/" } }\nrules: [{ name: r, when: { event: {} }, sinks: [b] }]', /no sink named 'b' \(sinks: a\)/],
    ['rules: [{ name: r, when: { event: {} } }, { name: r, when: { event: {} } }]', /'rules\.1\.name': rule 'r' is defined twice/],
    ['rules: [{ name: r, when: { event: {}, status: { spool_depth: { above: 1 } } } }]', /'rules\.0\.when': name exactly one of event, rate, status/],
    ['rules: [{ name: r, when: {} }]', /name exactly one of event, rate, status/],
    ['rules: [{ name: r, when: { status: {} } }]', /'rules\.0\.when\.status': name exactly one of source_disconnected, disk_used_percent, spool_depth/],
    ['rules: [{ name: r, when: { rate: { event: {}, count: 0, window: 1m } } }]', /'rules\.0\.when\.rate\.count'/],
    ['rules: [{ name: r, when: { rate: { event: {}, count: 5, window: soon } } }]', /'rules\.0\.when\.rate\.window': not a duration: soon/],
    ['rules: [{ name: "has space", when: { event: {} } }]', /'rules\.0\.name': letters, digits/],
    ['rules: [{ name: r, when: { event: {} }, rate_limit: { max: 3 } }]', /'rules\.0\.rate_limit\.per'/],
    ['sinks: { s: { type: syslog, host: h, port: 514, sd_id: "fedgres" } }', /'sinks\.s\.sd_id': must be name@<private enterprise number>/],
    ['sinks: { s: { type: syslog, host: h, port: 514, facility: 24 } }', /'sinks\.s\.facility'/],
    ['sinks: { s: { type: webhook, url: "ftp://x/" } }', /'sinks\.s\.url': must be an http:\/\/ or https:\/\/ URL/],
    ['sinks: { s: { type: pager, url: "http://x/" } }', /'sinks\.s\.type'/],
    ['sinks: { s: { type: slack, url: "http://x/", channel: c } }', /unknown key 'sinks\.s\.channel'/],
  ]
  for (const [yaml, want] of cases) assert.match(problems(yaml), want, yaml)
})
