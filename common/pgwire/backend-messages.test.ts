import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PgError } from '../errors/pg-error.js'
import { SqlState } from '../errors/sqlstate.js'
import { BackendDecoder, decodeBackendMessage, type BackendMessage, type FieldDescription } from './backend-messages.js'
import { DataRow, dataRowWithoutTrailing } from './data-row.js'
import { BackendEncoder, READY_FOR_QUERY } from './backend-encoder.js'
import { errorFromPgError, type ErrorFields } from './error-fields.js'
import { assertNever } from './assert-never.js'
import { assertDecodesOrViolates, assertProtocolViolation, frame, int16, int32, prng, withBodyLength } from './test-helpers.js'

const enc = new BackendEncoder()
const one = (f: (e: BackendEncoder) => unknown): Buffer => {
  f(enc)
  return enc.take()
}

const fields: FieldDescription[] = [
  { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 23, typeSize: 4, typeMod: -1, format: 0 },
  { name: 'héllo ✓', tableOid: 4294967295, columnAttr: -2, typeOid: 25, typeSize: -1, typeMod: 100, format: 1 },
]
const allErrorFields: ErrorFields = {
  severity: 'ERREUR',
  severityNonLocalized: 'ERROR',
  code: '42P01',
  message: 'relation "x" does not exist',
  detail: 'd',
  hint: 'h',
  position: '15',
  internalPosition: '3',
  internalQuery: 'select 1',
  where: 'w',
  schema: 'public',
  table: 'x',
  column: 'c',
  dataType: 'int4',
  constraint: 'pk',
  file: 'parse_relation.c',
  line: '1452',
  routine: 'parserOpenTable',
}
const salt = Buffer.from([1, 2, 3, 4])

/** A DataRow compares by its values. */
type Expected = Exclude<BackendMessage, DataRow> | { type: 'DataRow'; values: (Buffer | null)[] }

/** Every message type, keyed by `type` so a new one does not compile until it is tested here. */
const cases: Record<BackendMessage['type'], [Buffer, Expected][]> = {
  Authentication: [
    [one((e) => e.authenticationOk()), { type: 'Authentication', code: 0, data: Buffer.alloc(0) }],
    [one((e) => e.authenticationCleartextPassword()), { type: 'Authentication', code: 3, data: Buffer.alloc(0) }],
    [one((e) => e.authenticationMD5Password(salt)), { type: 'Authentication', code: 5, salt, data: salt }],
    [
      one((e) => e.authenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'])),
      { type: 'Authentication', code: 10, mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], data: Buffer.from('SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0') },
    ],
    [one((e) => e.authenticationSASLContinue('r=abc,s=xyz,i=4096')), { type: 'Authentication', code: 11, data: Buffer.from('r=abc,s=xyz,i=4096') }],
    [one((e) => e.authenticationSASLFinal(Buffer.from('v=xyz'))), { type: 'Authentication', code: 12, data: Buffer.from('v=xyz') }],
  ],
  ParameterStatus: [[one((e) => e.parameterStatus('client_encoding', 'UTF8')), { type: 'ParameterStatus', name: 'client_encoding', value: 'UTF8' }]],
  BackendKeyData: [[one((e) => e.backendKeyData(4242, -7)), { type: 'BackendKeyData', pid: 4242, secret: -7 }]],
  ReadyForQuery: (['I', 'T', 'E'] as const).map((status) => [one((e) => e.readyForQuery(status)), { type: 'ReadyForQuery', status }]),
  RowDescription: [
    [one((e) => e.rowDescription(fields)), { type: 'RowDescription', fields }],
    [one((e) => e.rowDescription([])), { type: 'RowDescription', fields: [] }],
  ],
  DataRow: [
    [
      one((e) => e.dataRow(['1', 'héllo ✓', null, '', Buffer.from([0, 0, 0, 42])])),
      { type: 'DataRow', values: [Buffer.from('1'), Buffer.from('héllo ✓'), null, Buffer.alloc(0), Buffer.from([0, 0, 0, 42])] },
    ],
    [one((e) => e.dataRow([])), { type: 'DataRow', values: [] }],
  ],
  CommandComplete: [[one((e) => e.commandComplete('SELECT 2')), { type: 'CommandComplete', tag: 'SELECT 2' }]],
  EmptyQueryResponse: [[one((e) => e.emptyQueryResponse()), { type: 'EmptyQueryResponse' }]],
  ErrorResponse: [
    [one((e) => e.errorResponse(allErrorFields)), { type: 'ErrorResponse', fields: allErrorFields }],
    [
      one((e) => e.errorResponse({ severity: 'FATAL', code: '08P01', message: 'invalid message format' })),
      { type: 'ErrorResponse', fields: { severity: 'FATAL', severityNonLocalized: 'FATAL', code: '08P01', message: 'invalid message format' } },
    ],
  ],
  NoticeResponse: [
    [
      one((e) => e.noticeResponse({ severity: 'WARNING', code: '01000', message: 'edge e1 unreachable', detail: 'partial result' })),
      { type: 'NoticeResponse', fields: { severity: 'WARNING', severityNonLocalized: 'WARNING', code: '01000', message: 'edge e1 unreachable', detail: 'partial result' } },
    ],
  ],
  ParseComplete: [[one((e) => e.parseComplete()), { type: 'ParseComplete' }]],
  BindComplete: [[one((e) => e.bindComplete()), { type: 'BindComplete' }]],
  CloseComplete: [[one((e) => e.closeComplete()), { type: 'CloseComplete' }]],
  NoData: [[one((e) => e.noData()), { type: 'NoData' }]],
  PortalSuspended: [[one((e) => e.portalSuspended()), { type: 'PortalSuspended' }]],
  ParameterDescription: [[one((e) => e.parameterDescription([23, 25, 4294967295])), { type: 'ParameterDescription', oids: [23, 25, 4294967295] }]],
  NotificationResponse: [[one((e) => e.notificationResponse(99, 'alerts', '{"n":1}')), { type: 'NotificationResponse', pid: 99, channel: 'alerts', payload: '{"n":1}' }]],
  CopyInResponse: [[one((e) => e.copyInResponse(0, [0, 0])), { type: 'CopyInResponse', format: 0, columnFormats: [0, 0] }]],
  CopyOutResponse: [[one((e) => e.copyOutResponse(1, [1])), { type: 'CopyOutResponse', format: 1, columnFormats: [1] }]],
  CopyBothResponse: [[frame('W', Buffer.from([0]), int16(0)), { type: 'CopyBothResponse', format: 0, columnFormats: [] }]],
  CopyData: [[one((e) => e.copyData(Buffer.from('1\tx\n'))), { type: 'CopyData', data: Buffer.from('1\tx\n') }]],
  CopyDone: [[one((e) => e.copyDone()), { type: 'CopyDone' }]],
  NegotiateProtocolVersion: [
    [one((e) => e.negotiateProtocolVersion(0, ['_pq_.foo'])), { type: 'NegotiateProtocolVersion', newestMinor: 0, unrecognizedOptions: ['_pq_.foo'] }],
  ],
  Unknown: [[frame('V', 4, Buffer.from('abcd')), { type: 'Unknown', code: 0x56, frame: frame('V', 4, Buffer.from('abcd')) }]],
}

function comparable(m: BackendMessage): Expected {
  return m instanceof DataRow ? { type: 'DataRow', values: m.values() } : m
}

/** A short description per message kind: the switch keeps the union honest (assertNever). */
function describe(m: BackendMessage): string {
  switch (m.type) {
    case 'DataRow':
      return `DataRow(${m.columnCount})`
    case 'ErrorResponse':
    case 'NoticeResponse':
      return `${m.type}(${m.fields.code})`
    case 'Authentication':
      return `Authentication(${m.code})`
    case 'ParameterStatus':
    case 'BackendKeyData':
    case 'ReadyForQuery':
    case 'RowDescription':
    case 'CommandComplete':
    case 'EmptyQueryResponse':
    case 'ParseComplete':
    case 'BindComplete':
    case 'CloseComplete':
    case 'NoData':
    case 'PortalSuspended':
    case 'ParameterDescription':
    case 'NotificationResponse':
    case 'CopyInResponse':
    case 'CopyOutResponse':
    case 'CopyBothResponse':
    case 'CopyData':
    case 'CopyDone':
    case 'NegotiateProtocolVersion':
    case 'Unknown':
      return m.type
    default:
      return assertNever(m)
  }
}

test('every backend message decodes to what was encoded', () => {
  for (const [type, list] of Object.entries(cases)) {
    for (const [bytes, want] of list) {
      const got = decodeBackendMessage(bytes)
      assert.equal(got.type, type, describe(got))
      assert.deepEqual(comparable(got), want, type)
    }
  }
})

test('the streaming decoder turns a stream split anywhere into the same messages', () => {
  const all = Object.values(cases).flat()
  const stream = Buffer.concat(all.map(([b]) => b))
  for (let cut = 0; cut <= stream.length; cut += 7) {
    const d = new BackendDecoder()
    const got: Expected[] = []
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
      d.push(part)
      for (let m = d.next(); m !== undefined; m = d.next()) got.push(comparable(m))
    }
    assert.deepEqual(got, all.map(([, want]) => want), `cut at ${cut}`)
  }
})

test('a DataRow keeps the raw frame and its values are views into it, not copies', () => {
  const bytes = Buffer.concat([one((e) => e.commandComplete('x')), one((e) => e.dataRow(['abc', null, 'de']))])
  const d = new BackendDecoder()
  d.push(bytes)
  d.next()
  const row = d.next()
  assert.ok(row instanceof DataRow)
  assert.equal(row.frame.buffer, bytes.buffer) // the frame is a view of the pushed chunk
  assert.equal(row.columnCount, 3)
  const [a, n, b] = row.values()
  assert.equal(a!.buffer, bytes.buffer)
  assert.equal(n, null)
  row.frame[11] = 0x41 // the first value's first byte
  assert.equal(a!.toString(), 'Abc')
  assert.deepEqual(row.textValues(), ['Abc', null, 'de'])
  assert.equal(b!.byteOffset, a!.byteOffset + 3 + 4 + 4)
})

test('dataRowWithoutTrailing drops the trailing columns, or returns the frame itself', () => {
  const full = one((e) => e.dataRow(['a', null, 'sortkey', Buffer.from([1, 2])]))
  const cut = dataRowWithoutTrailing(full, 2)
  assert.ok(cut.equals(one((e) => e.dataRow(['a', null]))))
  assert.equal(dataRowWithoutTrailing(full, 4), full)
  assert.ok(dataRowWithoutTrailing(full, 0).equals(one((e) => e.dataRow([]))))
  assertProtocolViolation(() => dataRowWithoutTrailing(full, 5), /DataRow has 4 columns/)
  // The encoder can do the same straight into its batch.
  assert.ok(one((e) => e.dataRowFrame(full, 2)).equals(cut))
  assert.ok(one((e) => e.dataRowFrame(full)).equals(full))
})

test('errorFromPgError sends what the client may see, with S and V', () => {
  const e = new PgError(SqlState.UndefinedTable, 'relation "nope" does not exist', { position: 15, hint: 'h', cause: new Error('secret') })
  const decoded = decodeBackendMessage(one((x) => x.errorResponse(errorFromPgError(e))))
  assert.deepEqual(decoded, {
    type: 'ErrorResponse',
    fields: { severity: 'ERROR', severityNonLocalized: 'ERROR', code: '42P01', message: 'relation "nope" does not exist', hint: 'h', position: '15' },
  })
})

test('constant messages are preallocated', () => {
  assert.deepEqual([...READY_FOR_QUERY.I], [0x5a, 0, 0, 0, 5, 0x49])
  assert.ok(one((e) => e.readyForQuery('T')).equals(READY_FOR_QUERY.T))
})

test('every truncation, and a trailing byte, of a fully specified message is a protocol violation', () => {
  const open: BackendMessage['type'][] = ['CopyData', 'Unknown']
  for (const [type, list] of Object.entries(cases)) {
    for (const [bytes] of list) {
      if (open.includes(type as BackendMessage['type'])) continue
      // SASLContinue and SASLFinal data is open-ended: only cuts into the code can fail.
      const sasl = type === 'Authentication' && (bytes[8] === 11 || bytes[8] === 12)
      for (let body = 0; body < (sasl ? 4 : bytes.length - 5); body++) {
        assertProtocolViolation(() => decodeBackendMessage(withBodyLength(bytes, body)))
      }
      if (!sasl) assertProtocolViolation(() => decodeBackendMessage(withBodyLength(bytes, bytes.length - 4)))
    }
  }
})

test('malformed messages from a server are protocol violations', () => {
  const bad: [Buffer, string | RegExp][] = [
    [frame('D', int16(2), 3, Buffer.from('abc')), 'insufficient data left in message'], // 2 columns, 1 present
    [frame('D', int16(1), -2), /invalid length of DataRow column 1: -2/],
    [frame('D', int16(1), 10, Buffer.from('abc')), 'insufficient data left in message'],
    [frame('D', int16(1), 1, Buffer.from('ab')), 'invalid message format'], // trailing byte
    [frame('T', int16(1000)), 'insufficient data left in message'],
    [frame('T', int16(1), 'x', 0, int16(0), 23, int16(4), -1, int16(2)), 'unsupported format code: 2'],
    [frame('t', int16(5), 23), 'insufficient data left in message'],
    [frame('Z', Buffer.from('X')), /invalid transaction status 88/],
    [frame('R', 99), /unsupported authentication request code 99/],
    [frame('R', 5, Buffer.from([1, 2, 3])), 'insufficient data left in message'],
    [frame('R', 10, Buffer.from('SCRAM')), 'invalid string in message'],
    [frame('C', Buffer.from('SELECT 1')), 'invalid string in message'],
    [frame('E', Buffer.from('Mno terminator')), 'invalid string in message'],
    [frame('E', 'Mmessage'), 'insufficient data left in message'], // no final zero byte
    [frame('G', Buffer.from([2]), int16(0)), 'unsupported format code: 2'],
    [frame('v', 0, 1000), 'insufficient data left in message'],
    [frame('v', 0, -1), 'insufficient data left in message'],
  ]
  for (const [bytes, message] of bad) assertProtocolViolation(() => decodeBackendMessage(bytes), message)
})

test('an oversized length from a server is refused before any allocation', () => {
  const d = new BackendDecoder({ maxMessageLength: 1024 })
  d.push(Buffer.concat([Buffer.from('D'), int32(1_000_000)]))
  assertProtocolViolation(() => d.next(), /invalid message length: 1000000/)
})

test('fuzz: mutated frames decode or fail with 08P01, never another exception', () => {
  const random = prng(1234)
  const all = Object.values(cases).flat().map(([b]) => b)
  for (let i = 0; i < 20_000; i++) {
    const f = Buffer.from(all[i % all.length]!)
    const flips = 1 + Math.floor(random() * 3)
    for (let k = 0; k < flips && f.length > 5; k++) f[5 + Math.floor(random() * (f.length - 5))] = Math.floor(random() * 256)
    assertDecodesOrViolates(() => {
      const m = decodeBackendMessage(f)
      if (m instanceof DataRow) m.values()
    })
  }
})
