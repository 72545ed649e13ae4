import { test } from 'node:test'
import assert from 'node:assert/strict'
import Long from 'long'
import { alertColumns, logColumns } from '../../schema/index.js'
import { copyUnescape } from '../store/copy-text.js'
import { encodeRow, eventTime, tableOf, EventFieldError, type KubeArmorEvent } from './event-to-row.js'

const ctx = { edgeId: 'edge-1', tags: [] as string[] }

/** Decodes a COPY line back into column → text (or null). */
function fields(table: 'alerts' | 'logs', line: string): Record<string, string | null> {
  assert.ok(line.endsWith('\n'))
  const parts = line.slice(0, -1).split('\t')
  const cols = table === 'alerts' ? alertColumns : logColumns
  assert.equal(parts.length, cols.length, 'one field per column')
  return Object.fromEntries(cols.map((c, i) => [c.name, copyUnescape(parts[i]!)]))
}

const blockAlert: KubeArmorEvent = {
  Timestamp: 1765863439,
  UpdatedTime: '2025-12-16T05:37:19.127331Z',
  ClusterName: 'default',
  HostName: 'aryan',
  NamespaceName: 'multiubuntu',
  Owner: { Ref: 'Deployment', Name: 'ubuntu-1-deployment', Namespace: 'multiubuntu' },
  PodName: 'ubuntu-1-deployment-8dc5d8d48-5s8pf',
  HostPPID: 190507,
  HostPID: 191949,
  PPID: 190507,
  PID: 113,
  UID: 0,
  PolicyName: 'ksp-ubuntu-1-allow-proc-args',
  Severity: '5',
  Tags: 'NIST,SI-4',
  Type: 'MatchedPolicy',
  Operation: 'Process',
  Resource: '/usr/bin/python3.6 -m pydoc',
  EventData: { Lsm: 'SECURITY_BPRM_CHECK' },
  Action: 'Block',
  ExecEvent: { ExecID: '824416229130095', ExecutableName: 'bash' },
}

test('an alert maps every field to its column, with time from UpdatedTime to the microsecond', () => {
  const row = fields('alerts', encodeRow('alerts', blockAlert, eventTime(blockAlert, 0), ctx))
  assert.equal(row.time, '2025-12-16T05:37:19.127331Z')
  assert.equal(row.edge_id, 'edge-1')
  assert.equal(row.timestamp, '1765863439')
  assert.equal(row.owner_ref, 'Deployment')
  assert.equal(row.owner_namespace, 'multiubuntu')
  assert.equal(row.host_ppid, '190507')
  assert.equal(row.uid, '0', 'UID is kept when zero, as karmor prints it')
  assert.equal(row.severity, '5')
  assert.equal(row.policy_tags, '{"NIST","SI-4"}', 'Tags split on commas when ATags is absent')
  assert.equal(row.event_data, '{"Lsm":"SECURITY_BPRM_CHECK"}')
  assert.equal(row.exec_id, '824416229130095')
  assert.equal(row.executable_name, 'bash')
  assert.equal(row.labels, null, 'an omitted string is NULL')
  assert.equal(row.max_alerts_per_sec, null, 'an omitted integer is NULL')
  assert.equal(row.tags, null)
})

test('events from older KubeArmor versions, without the newer fields, map to NULLs', () => {
  const old: KubeArmorEvent = { ClusterName: 'default', HostName: 'h', Type: 'ContainerLog', Operation: 'File', Resource: '/etc/passwd', PPID: 0 }
  const row = fields('logs', encodeRow('logs', old, eventTime(old, Date.parse('2026-01-02T03:04:05.678Z')), ctx))
  assert.equal(row.time, '2026-01-02T03:04:05.678000Z', 'no UpdatedTime or Timestamp: the receive time')
  for (const c of ['event_data', 'exec_id', 'node_id', 'user_name', 'owner_ref', 'cwd', 'tty', 'timestamp', 'host_pid']) assert.equal(row[c], null, c)
  assert.equal(row.ppid, '0')
  assert.equal(row.uid, '0', 'UID is always printed by KubeArmor; absent means 0')
})

test('time falls back to Timestamp (seconds) when UpdatedTime is missing or malformed', () => {
  assert.equal(eventTime({ Timestamp: 1692813948 }, 0).text, '2023-08-23T18:05:48.000000Z')
  assert.equal(eventTime({ Timestamp: '1692813948', UpdatedTime: 'yesterday' }, 0).text, '2023-08-23T18:05:48.000000Z')
  assert.equal(eventTime({ Timestamp: Long.fromNumber(1692813948) }, 0).day, '2023-08-23')
  assert.equal(eventTime({ UpdatedTime: '2023-02-30T00:00:00.000000Z', Timestamp: 1692813948 }, 0).day, '2023-08-23', 'an impossible date is malformed')
})

test('protobufjs Longs and message defaults map like the JSON form', () => {
  const decodedLike = Object.assign(Object.create({ HostPID: 0, PodName: '', Owner: null, EventData: {}, ATags: [] }), {
    Timestamp: Long.fromNumber(1765863439),
    HostName: 'n1',
    Type: 'HostLog',
  }) as KubeArmorEvent
  const row = fields('logs', encodeRow('logs', decodedLike, eventTime(decodedLike, 0), ctx))
  assert.equal(row.timestamp, '1765863439')
  assert.equal(row.host_pid, null)
  assert.equal(row.pod_name, null)
  assert.equal(row.event_data, null)
})

test('tabs, newlines and backslashes in strings survive the COPY encoding', () => {
  const ev: KubeArmorEvent = { HostName: 'h', Type: 'ContainerLog', Source: 'bash -c "a\tb\nc\\d"', EventData: { K: 'x\ty' } }
  const row = fields('logs', encodeRow('logs', ev, eventTime(ev, 0), ctx))
  assert.equal(row.source, 'bash -c "a\tb\nc\\d"')
  assert.deepEqual(JSON.parse(row.event_data!), { K: 'x\ty' })
})

test('node tags and ATags with quotes are valid array literals', () => {
  const ev: KubeArmorEvent = { HostName: 'h', Type: 'MatchedPolicy', ATags: ['a"b', 'c\\d', 'e,f'] }
  const row = fields('alerts', encodeRow('alerts', ev, eventTime(ev, 0), { edgeId: 'e', tags: ['pci', 'eu-west'] }))
  assert.equal(row.policy_tags, '{"a\\"b","c\\\\d","e,f"}')
  assert.equal(row.tags, '{"pci","eu-west"}')
})

test('a field of the wrong type is an error naming the field', () => {
  assert.throws(() => encodeRow('logs', { HostPID: 'many' }, eventTime({}, 0), ctx), (e: unknown) => e instanceof EventFieldError && e.field === 'HostPID')
  assert.throws(() => encodeRow('alerts', { Severity: 'high' }, eventTime({}, 0), ctx), /field Severity/)
  assert.throws(() => encodeRow('logs', { HostPID: 2 ** 31 }, eventTime({}, 0), ctx), /32-bit integer/)
  assert.throws(() => encodeRow('logs', { EventData: { A: 1 } }, eventTime({}, 0), ctx), /field EventData\.A/)
})

test('the table comes from Type, else from alert-only fields', () => {
  assert.equal(tableOf({ Type: 'MatchedHostPolicy' }), 'alerts')
  assert.equal(tableOf({ Type: 'SystemEvent', Operation: 'AlertThreshold' }), 'alerts')
  assert.equal(tableOf({ Type: 'HostLog' }), 'logs')
  assert.equal(tableOf({ PolicyName: 'p' }), 'alerts')
  assert.equal(tableOf({ Operation: 'File' }), 'logs')
})
