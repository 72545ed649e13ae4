import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventColumns, type EventTable } from '../../schema/index.js'
import { edgeConfigSchema } from '../config.js'
import { EventRules, type TagRule } from './event-rules.js'

/** A getter over a row given by column name. */
const row = (table: EventTable, values: Record<string, string | null>) => (i: number) => values[eventColumns[table][i]!.name] ?? null

const rules: TagRule[] = [
  { name: 'pci', match: { namespace_name: { in: ['payments', 'billing'] } }, tags: ['pci'] },
  { match: { action: 'Block' }, tags: ['blocked'] },
  { match: { process_name: { regex: '^/usr/bin/(curl|wget)$' } }, tags: ['downloader', 'pci'] },
  { match: { resource: { cidr: ['10.0.0.0/8', 'fd00::/8'] } }, tags: ['internal-net'] },
  { match: { uid: 0, operation: { eq: 'Process' } }, tags: ['root-exec'] },
]

test('equality, IN, regex, CIDR and integer conditions tag exactly the matching events', () => {
  const r = new EventRules(['site:a'], rules)
  assert.deepEqual(r.evaluate('logs', row('logs', { namespace_name: 'payments' })), ['site:a', 'pci'])
  assert.deepEqual(r.evaluate('logs', row('logs', { namespace_name: 'default' })), ['site:a'])
  assert.deepEqual(r.evaluate('alerts', row('alerts', { action: 'Block', namespace_name: 'billing' })), ['site:a', 'pci', 'blocked'])
  assert.deepEqual(r.evaluate('logs', row('logs', { action: 'Block' })), ['site:a'], 'logs have no action column: that rule is for alerts')
  assert.deepEqual(r.evaluate('logs', row('logs', { process_name: '/usr/bin/curl', namespace_name: 'payments' })), ['site:a', 'pci', 'downloader'], 'no repeats')
  assert.deepEqual(r.evaluate('logs', row('logs', { process_name: '/usr/bin/curly' })), ['site:a'])
  assert.deepEqual(r.evaluate('logs', row('logs', { resource: 'sa_family=AF_INET sin_port=53 sin_addr=10.43.0.10' })), ['site:a', 'internal-net'])
  assert.deepEqual(r.evaluate('logs', row('logs', { resource: 'remote 11.0.0.1:443' })), ['site:a'])
  assert.deepEqual(r.evaluate('logs', row('logs', { resource: 'addr=fd12::1' })), ['site:a', 'internal-net'])
  assert.deepEqual(r.evaluate('logs', row('logs', { uid: '0', operation: 'Process' })), ['site:a', 'root-exec'])
  assert.deepEqual(r.evaluate('logs', row('logs', { uid: '1000', operation: 'Process' })), ['site:a'])
})

test('alert matchers report their hits; no rule means the node tags, unchanged', () => {
  const r = new EventRules([], [], [{ name: 'shell-in-payments', match: { namespace_name: 'payments', process_name: { regex: 'sh$' } } }])
  assert.deepEqual(r.evaluate('alerts', row('alerts', { namespace_name: 'payments', process_name: '/bin/bash' })), [])
  assert.deepEqual(r.hits, ['shell-in-payments'])
  r.evaluate('alerts', row('alerts', { namespace_name: 'payments', process_name: '/bin/ls' }))
  assert.deepEqual(r.hits, [])
  const none = new EventRules(['x'], [])
  assert.equal(none.active('logs'), false)
})

test('bad rules are refused at start, naming the rule and the key', () => {
  const parse = (tagging: unknown) => edgeConfigSchema.safeParse({ tagging })
  const cases: [unknown, RegExp][] = [
    [{ rules: [{ match: { namespace: 'x' }, tags: ['t'] }] }, /namespace: .*no column 'namespace'.*did you mean namespace_name/],
    [{ rules: [{ match: { pod_name: { regex: '(' } }, tags: ['t'] }] }, /rules\[0\]\.match\.pod_name: bad regex/],
    [{ rules: [{ match: { resource: { cidr: '10.0.0.0/33' } }, tags: ['t'] }] }, /resource: .*prefix length must be 0 to 32/],
    [{ rules: [{ match: { resource: { cidr: 'nope' } }, tags: ['t'] }] }, /'nope' is not an IP address/],
    [{ rules: [{ match: { pod_name: 'x' }, tags: ['bad tag!'] }] }, /tags use letters/],
    [{ rules: [{ match: {}, tags: ['t'] }] }, /name at least one column/],
    [{ rules: [{ tables: ['logs'], match: { action: 'Block' }, tags: ['t'] }] }, /logs has no column 'action'/],
  ]
  for (const [tagging, want] of cases) {
    const res = parse(tagging)
    assert.equal(res.success, false, JSON.stringify(tagging))
    assert.match(JSON.stringify(res.error!.issues), want)
  }
})

test('many rules: more than 31 on one column and more than 31 tagging rules still tag exactly', () => {
  const many: TagRule[] = Array.from({ length: 40 }, (_, i) => ({ match: { pod_name: `pod-${i}` }, tags: [`t${i}`] }))
  many.push({ match: { pod_name: { regex: '^pod-3' } }, tags: ['three'] })
  const r = new EventRules([], many)
  for (const i of [0, 3, 30, 31, 35, 39]) {
    const want = [`t${i}`, ...(String(i).startsWith('3') ? ['three'] : [])]
    assert.deepEqual(r.evaluate('logs', row('logs', { pod_name: `pod-${i}` })), want, `pod-${i}`)
    assert.deepEqual(r.evaluate('logs', row('logs', { pod_name: `pod-${i}` })), want, `pod-${i} again (remembered)`)
  }
  assert.deepEqual(r.evaluate('logs', row('logs', { pod_name: 'pod-x' })), [])
})
