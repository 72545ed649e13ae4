import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventGenerator } from '../../event-source/generator.js'
import { suffix, withoutRestamped } from '../../event-source/fast-encoder.js'
import { ByteSink } from '../spool/byte-sink.js'
import { copyUnescape } from '../store/copy-text.js'
import { encodeRow, eventTime, type KubeArmorEvent } from './event-to-row.js'
import { feederTypes } from './kubearmor-proto.js'
import { writeRowFromProtobuf } from './protobuf-row.js'

const ctx = { edgeId: 'edge-eq', tags: ['node-tag'] }
const RECEIVED = 1_700_000_000_000

function viaProtobufjs(table: 'alerts' | 'logs', bytes: Buffer): string {
  const t = feederTypes()
  const ev = (table === 'alerts' ? t.Alert : t.Log).decode(bytes) as unknown as KubeArmorEvent
  return encodeRow(table, ev, eventTime(ev, RECEIVED), ctx)
}

function direct(table: 'alerts' | 'logs', bytes: Buffer, end = bytes.length) {
  const sink = new ByteSink(64)
  const row = writeRowFromProtobuf(table, bytes, 0, end, ctx, RECEIVED, sink)
  return { row, line: sink.take().toString('utf8') }
}

function encode(table: 'alerts' | 'logs', ev: Record<string, unknown>): Buffer {
  const t = feederTypes()
  const type = table === 'alerts' ? t.Alert : t.Log
  return Buffer.from(type.encode(type.fromObject(ev)).finish())
}

test('the direct decoder gives the same row as protobufjs plus the mapping, for 5000 generated events', () => {
  const gen = new EventGenerator({ hosts: ['n1', 'n2', 'n3'], seed: 11, legacyRatio: 0.2, throttleEvery: 50 })
  for (let i = 0; i < 5000; i++) {
    const { table, event } = gen.next(1_766_000_000_000_000 + i * 1_234_567)
    const bytes = encode(table, event)
    const d = direct(table, bytes)
    assert.equal(d.line, viaProtobufjs(table, bytes), `event ${i}`)
    assert.equal(d.row.host, event.HostName)
    assert.equal(d.row.namespace, event.NamespaceName ?? null)
  }
})

test('strings with escapes, non-ASCII text, invalid UTF-8 and odd times match the general mapping', () => {
  const cases: [('alerts' | 'logs'), Record<string, unknown>][] = [
    ['logs', { HostName: 'h\tä', Source: 'sh -c "a\\b\nc\r"', Resource: 'Ünïcödé ✓ 𝄞', EventData: { 'K"ey': 'v\\al\tue', 'ctl': '\u0001\u001f' }, Type: 'HostLog' }],
    ['alerts', { HostName: 'h', Tags: ' a, b ,,c ', Severity: ' 7 ', UpdatedTime: '2024-02-29T23:59:59.999999Z' }],
    ['alerts', { HostName: 'h', UpdatedTime: '2023-02-29T00:00:00.000000Z', Timestamp: '1692813948' }],
    ['logs', { HostName: 'h', UpdatedTime: '2025-01-01T00:00:00.5Z' }],
    ['logs', { HostName: 'h', UpdatedTime: '0050-06-01T00:00:00.000001Z' }],
    // int64 beyond 2^53 and negative (ten varint bytes): exact, signed, as protobufjs reads them.
    ['logs', { HostName: 'h', Timestamp: '-5' }],
    ['alerts', { HostName: 'h', Timestamp: '9007199254740993' }],
    ['logs', { HostName: 'h', Timestamp: '-9223372036854775808' }],
    ['logs', { HostName: 'h', EventData: { a: '1', '2': 'x' } }],
    ['logs', { HostName: 'h', EventData: { 'ключ': 'zn "ä"\\\n', ab: 'x', cd: 'y', 'é': '\u0002€' } }],
  ]
  for (const [table, ev] of cases) {
    const bytes = encode(table, ev)
    assert.equal(direct(table, bytes).line, viaProtobufjs(table, bytes), JSON.stringify(ev))
  }
  // A Timestamp past the year 9999 (or past Date's range) is no time: the event gets its received time.
  for (const ts of ['253402300800', '10000000000000']) assert.equal(eventTime({ Timestamp: ts }, RECEIVED).micros, RECEIVED * 1000, ts)
  assert.equal(eventTime({ Timestamp: '253402300799' }, RECEIVED).text, '9999-12-31T23:59:59.000000Z')
  // A year below 100 is that year, not 1900's (Date.UTC's reading): the time the synopsis publishes.
  assert.equal(eventTime({ UpdatedTime: '0050-06-01T00:00:00.000001Z' }, RECEIVED).micros, Date.parse('0050-06-01T00:00:00Z') * 1000 + 1)
  // A string field holding invalid UTF-8 is decoded as protobufjs decodes it (U+FFFD).
  const bad = Buffer.concat([encode('logs', { HostName: 'h' }), Buffer.from([0x82, 0x01, 0x02, 0xff, 0xfe])])
  assert.equal(direct('logs', bad).line, viaProtobufjs('logs', bad))
  // And an EventData value holding invalid UTF-8 after ASCII and an escape (Log.EventData is field 33).
  const entry = [0x0a, 1, 0x6b, 0x12, 5, 0x61, 0x22, 0x62, 0xff, 0x63]
  const badMap = Buffer.concat([encode('logs', { HostName: 'h' }), Buffer.from([0x8a, 0x02, entry.length, ...entry])])
  assert.equal(direct('logs', badMap).line, viaProtobufjs('logs', badMap))
  assert.ok(direct('logs', badMap).line.includes('{"k":"a\\\\\"b\uFFFDc"}'), direct('logs', badMap).line)
})

test('a NUL in a text, array or JSON field is stored as U+FFFD, the same by both decoders (PostgreSQL text cannot hold one)', () => {
  const ev = { HostName: 'h', ProcessName: '/bin/ba\u0000sh', Labels: 'app=x\u0000y', EventData: { 'k\u0000': 'v\u0000al', 'back\\u0000slash': '\\u0000' }, Type: 'HostLog' }
  for (const table of ['logs', 'alerts'] as const) {
    const bytes = encode(table, ev)
    const line = direct(table, bytes).line
    assert.equal(line, viaProtobufjs(table, bytes))
    assert.ok(!line.includes('\u0000'), line)
    // The JSON keeps a backslash-u text that is no NUL as it was.
    const json = line.split('\t').find((f) => f.startsWith('{"k'))!
    assert.deepEqual(JSON.parse(copyUnescape(json)!), { 'k\uFFFD': 'v\uFFFDal', 'back\\u0000slash': '\\u0000' })
    assert.ok(line.includes('/bin/ba\uFFFDsh'), line)
  }
})

test('re-stamped (fast source) events decode with the appended, last-wins fields', () => {
  const gen = new EventGenerator({ hosts: ['n1'], seed: 5 })
  const { table, event } = gen.next(1_766_000_000_000_000)
  const bytes = Buffer.concat([encode(table, event), suffix(table, 424242, 1_766_100_000_123_456)])
  const d = direct(table, bytes)
  assert.equal(d.line, viaProtobufjs(table, bytes))
  assert.match(d.line, /"Seq":"424242"/)
  assert.ok(d.line.startsWith('2025-12-18T23:20:00.123456Z\t'), d.line.slice(0, 40))
})

test('the fast source sends each field and map key once, and its events decode like fresh ones', () => {
  const gen = new EventGenerator({ hosts: ['n1'], seed: 9 })
  for (let i = 0; i < 50; i++) {
    const micros = 1_766_000_000_000_000 + i * 1_000_123
    const { table, event } = gen.next(micros)
    const sent = Buffer.concat([encode(table, withoutRestamped(event)), suffix(table, 7000 + i, micros)])
    const seq = (event.EventData as Record<string, string>).Seq
    const fresh = encode(table, { ...event, EventData: { ...(event.EventData as object), Seq: String(7000 + i) } })
    assert.equal(direct(table, sent).line, direct(table, fresh).line)
    assert.equal(sent.indexOf('Seq'), sent.lastIndexOf('Seq'), `one Seq key (the generator's was ${seq})`)
    assert.equal(sent.length, fresh.length, 'no field sent twice')
  }
})

test('negative int32 values, unknown fields and empty messages decode safely', () => {
  const bytes = encode('logs', { HostName: 'h', PID: -5, HostPID: 2147483647, Type: 'HostLog' })
  const withUnknown = Buffer.concat([bytes, Buffer.from([0x98, 0x06, 0x01])]) // field 99, a varint
  const d = direct('logs', withUnknown)
  assert.equal(d.line, viaProtobufjs('logs', bytes))
  assert.match(d.line, /\t-5\t/)
  assert.equal(direct('alerts', Buffer.alloc(0)).line, viaProtobufjs('alerts', Buffer.alloc(0)))
})

test('a truncated message is an error, not a garbage row', () => {
  const bytes = encode('alerts', { HostName: 'a-long-host-name', PolicyName: 'p' })
  assert.throws(() => direct('alerts', bytes, bytes.length - 1), /truncated/)
})

test('with tagging rules, both decoders tag the same events the same way', async () => {
  const { EventRules } = await import('../rules/event-rules.js')
  const rules = new EventRules(['node-tag'], [
    { match: { namespace_name: { in: ['payments', 'kube-system'] } }, tags: ['watched-ns'] },
    { match: { resource: { cidr: '10.0.0.0/8' } }, tags: ['internal-net'] },
    { match: { process_name: { regex: 'sh$' }, uid: 0 }, tags: ['root-shell'] },
    { match: { action: 'Block' }, tags: ['blocked'] },
    { match: { pod_name: null }, tags: ['host-event'] },
  ])
  const rctx = { edgeId: 'edge-eq', tags: ['node-tag'], rules }
  const gen = new EventGenerator({ hosts: ['n1', 'n2'], seed: 5, legacyRatio: 0.2 })
  const seen = new Set<string>()
  for (let i = 0; i < 3000; i++) {
    const { table, event } = gen.next(1_766_000_000_000_000 + i * 1_234_567)
    const bytes = encode(table, event)
    const t = feederTypes()
    const ev = (table === 'alerts' ? t.Alert : t.Log).decode(bytes) as unknown as KubeArmorEvent
    const sink = new ByteSink(64)
    const row = writeRowFromProtobuf(table, bytes, 0, bytes.length, rctx, RECEIVED, sink)
    assert.equal(sink.take().toString('utf8'), encodeRow(table, ev, eventTime(ev, RECEIVED), rctx), `event ${i}`)
    for (const tag of row.tags) seen.add(tag)
  }
  assert.deepEqual([...seen].sort(), ['blocked', 'host-event', 'internal-net', 'node-tag', 'root-shell', 'watched-ns'], 'every rule matched some generated event')
})
