import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FiredAlert } from './alert.js'
import {
  alertToSyslog,
  escapeParamValue,
  formatSyslogMessage,
  headerField,
  MAX_MESSAGE_OCTETS,
  octetCountedFrame,
  syslogSeverity,
  type SyslogMessage,
} from './syslog-message.js'
import { FrameSplitter, parseRfc5424 } from '../../test/helpers/alert-receivers.js'

const base: SyslogMessage = {
  facility: 4,
  severity: 2,
  timestamp: '2003-10-11T22:14:15.003Z',
  hostname: 'mymachine.example.com',
  appName: 'su',
  procId: '',
  msgId: 'ID47',
  sdId: 'exampleSDID@32473',
  params: [],
  msg: "'su root' failed for lonvick on /dev/pts/8",
  bom: true,
}

test("RFC 5424 §6.5 example 1 comes out byte for byte: PRI 34, NILVALUE PROCID and SD, BOM before MSG", () => {
  const out = formatSyslogMessage(base)
  const expected = Buffer.concat([
    Buffer.from('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - '),
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from("'su root' failed for lonvick on /dev/pts/8"),
  ])
  assert.deepEqual(out, expected)
})

test('RFC 5424 §6.5 example 4: structured data with no MSG ends after the SD element', () => {
  const out = formatSyslogMessage({ ...base, facility: 20, severity: 5, hostname: 'mymachine.example.com', appName: 'evntslog', msg: '', params: [['iut', '3'], ['eventSource', 'Application'], ['eventID', '1011']] })
  assert.equal(out.toString(), '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]')
})

test('PARAM-VALUE escapes exactly ", \\ and ] (§6.3.3), and leaves other characters alone', () => {
  assert.equal(escapeParamValue('a"b\\c]d[e=f'), 'a\\"b\\\\c\\]d[e=f')
  const out = formatSyslogMessage({ ...base, msg: '', params: [['v', 'say "hi" \\ [x] ünï']] })
  assert.equal(parseRfc5424(out).sd['exampleSDID@32473']!.v, 'say "hi" \\ [x] ünï', 'a parser that undoes the escapes gets the value back')
})

test('HEADER fields keep to PRINTUSASCII and their lengths; an empty one is the NILVALUE', () => {
  assert.equal(headerField('node 7\tb', 255), 'node_7_b')
  assert.equal(headerField('ünï', 48), '_n_')
  assert.equal(headerField('x'.repeat(40), 32), 'x'.repeat(32))
  assert.equal(headerField('', 32), '-')
  assert.equal(headerField(undefined, 32), '-')
  const p = parseRfc5424(formatSyslogMessage({ ...base, hostname: 'my host', appName: 'a'.repeat(60), msgId: '' }))
  assert.equal(p.hostname, 'my_host')
  assert.equal(p.appName.length, 48)
  assert.equal(p.msgId, '-')
})

test('severity words, high/medium/low and KubeArmor 1–10 map onto syslog severities; unknown is warning', () => {
  const cases: [string | undefined, number][] = [
    ['emerg', 0], ['Alert', 1], ['critical', 2], ['crit', 2], ['error', 3], ['high', 3], ['warning', 4], ['medium', 4],
    ['notice', 5], ['low', 5], ['info', 6], ['debug', 7], ['10', 2], ['9', 2], ['8', 3], ['5', 4], ['3', 5], ['1', 6],
    [undefined, 4], ['whatever', 4], ['0', 4],
  ]
  for (const [sev, want] of cases) assert.equal(syslogSeverity(sev), want, String(sev))
})

test('a long MSG is cut to the size limit at a character boundary, never the header or SD', () => {
  const out = formatSyslogMessage({ ...base, params: [['k', 'v']], msg: 'é'.repeat(MAX_MESSAGE_OCTETS) })
  assert.ok(out.length <= MAX_MESSAGE_OCTETS)
  assert.ok(out.length >= MAX_MESSAGE_OCTETS - 1, 'at most one octet is lost to the boundary')
  const p = parseRfc5424(out)
  assert.equal(p.sd['exampleSDID@32473']!.k, 'v')
  assert.match(p.msg, /^é+$/, 'no replacement character from a cut é')
})

test('BOM can be left out for collectors that show it', () => {
  const out = formatSyslogMessage({ ...base, bom: false })
  assert.ok(out.toString().endsWith(" - 'su root' failed for lonvick on /dev/pts/8"))
  assert.equal(parseRfc5424(out).bom, false)
})

test('octet counting prefixes the byte length, not the character length, and frames split back apart', () => {
  const a = formatSyslogMessage({ ...base, msg: 'ü' })
  const b = formatSyslogMessage({ ...base, msg: 'second' })
  const framed = Buffer.concat([octetCountedFrame(a), octetCountedFrame(b)])
  assert.ok(framed.toString().startsWith(`${a.length} <34>1 `))
  const splitter = new FrameSplitter()
  // Delivered one byte at a time, as TCP may.
  const frames = [...framed].flatMap((byte) => splitter.push(Buffer.from([byte])))
  assert.deepEqual(frames, [a, b])
})

test('an alert becomes PRI facility×8+severity, firedAt, MSGID its rule, an SD element naming it, and summary + details as MSG', () => {
  const alert: FiredAlert = {
    id: '4c4f1f0e-8a8e-4b8e-9a57-0c7a4b0f2f11',
    rule: 'shell-in-pod',
    severity: 'critical',
    kind: 'event',
    firedAt: '2025-12-16T05:37:19.127Z',
    edgeId: 'edge-1',
    summary: 'Process /bin/bash (Block)\nin ns/pod',
    details: { pod_name: 'web-1', pid: 7n },
  }
  const p = parseRfc5424(alertToSyslog(alert, { facility: 13, hostname: 'node-7', appName: 'fedgres-edge', procId: '42', sdId: 'fedgres@32473', bom: true }))
  assert.equal(p.pri, 13 * 8 + 2)
  assert.equal(p.version, '1')
  assert.equal(p.timestamp, alert.firedAt)
  assert.deepEqual([p.hostname, p.appName, p.procId, p.msgId], ['node-7', 'fedgres-edge', '42', 'shell-in-pod'])
  assert.deepEqual(p.sd, { 'fedgres@32473': { id: alert.id, rule: 'shell-in-pod', edge: 'edge-1', kind: 'event', severity: 'critical' } })
  assert.equal(p.bom, true)
  assert.equal(p.msg, 'Process /bin/bash (Block) in ns/pod {"pod_name":"web-1","pid":7}', 'control characters in the summary become spaces; bigint is a JSON number')
})
