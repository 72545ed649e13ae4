import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PgError } from '../errors/pg-error.js'
import {
  decodeFrontendMessage,
  decodePassword,
  decodeSaslInitialResponse,
  decodeStartupFrame,
  type FrontendMessage,
} from './frontend-messages.js'
import { cancelRequest, FrontendEncoder, gssEncRequest, SSL_REQUEST, sslRequest, startupMessage, SYNC } from './frontend-encoder.js'
import { MessageBuffer } from './message-buffer.js'
import { PROTOCOL_VERSION_3_0 } from './message-codes.js'
import {
  assertDecodesOrViolates,
  assertProtocolViolation,
  frame,
  int16,
  int32,
  prng,
  withBodyLength,
} from './test-helpers.js'

const enc = new FrontendEncoder()
const one = (f: (e: FrontendEncoder) => unknown): Buffer => {
  f(enc)
  return enc.take()
}
const int4 = int32(42)

/** Every message type, keyed by its `type` so a new one does not compile until it is tested here. */
const cases: Record<FrontendMessage['type'], [Buffer, FrontendMessage][]> = {
  Query: [
    [one((e) => e.query('select 1')), { type: 'Query', sql: 'select 1' }],
    [one((e) => e.query('')), { type: 'Query', sql: '' }],
    [one((e) => e.query(`select 'héllo ✓ ${'x'.repeat(70_000)}'`)), { type: 'Query', sql: `select 'héllo ✓ ${'x'.repeat(70_000)}'` }],
  ],
  Parse: [
    [one((e) => e.parse('s1', 'select $1, $2, $3', [23, 0, 4294967295])), { type: 'Parse', name: 's1', sql: 'select $1, $2, $3', paramTypes: [23, 0, 4294967295] }],
    [one((e) => e.parse('', 'select 1')), { type: 'Parse', name: '', sql: 'select 1', paramTypes: [] }],
  ],
  Bind: [
    [
      one((e) => e.bind('p', 's1', [0, 1, 0], ['héllo', int4, null], [1, 0])),
      { type: 'Bind', portal: 'p', statement: 's1', paramFormats: [0, 1, 0], params: [Buffer.from('héllo'), int4, null], resultFormats: [1, 0] },
    ],
    [
      one((e) => e.bind('', '', [1], [int4, Buffer.alloc(0)], [])),
      { type: 'Bind', portal: '', statement: '', paramFormats: [1], params: [int4, Buffer.alloc(0)], resultFormats: [] },
    ],
    [one((e) => e.bind('', '')), { type: 'Bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [] }],
  ],
  Describe: [
    [one((e) => e.describe('S', 's1')), { type: 'Describe', kind: 'S', name: 's1' }],
    [one((e) => e.describe('P', '')), { type: 'Describe', kind: 'P', name: '' }],
  ],
  Execute: [
    [one((e) => e.execute('')), { type: 'Execute', portal: '', maxRows: 0 }],
    [one((e) => e.execute('p', 2)), { type: 'Execute', portal: 'p', maxRows: 2 }],
  ],
  Close: [
    [one((e) => e.close('S', 's1')), { type: 'Close', kind: 'S', name: 's1' }],
    [one((e) => e.close('P', 'p')), { type: 'Close', kind: 'P', name: 'p' }],
  ],
  Sync: [[one((e) => e.sync()), { type: 'Sync' }]],
  Flush: [[one((e) => e.flush()), { type: 'Flush' }]],
  Terminate: [[one((e) => e.terminate()), { type: 'Terminate' }]],
  CopyData: [[one((e) => e.copyData(Buffer.from('1\tx\n'))), { type: 'CopyData', data: Buffer.from('1\tx\n') }]],
  CopyDone: [[one((e) => e.copyDone()), { type: 'CopyDone' }]],
  CopyFail: [[one((e) => e.copyFail('aborted by user')), { type: 'CopyFail', message: 'aborted by user' }]],
  FunctionCall: [[frame('F', 1234, int16(0), int16(0), int16(0)), { type: 'FunctionCall', functionOid: 1234 }]],
  AuthResponse: [
    [one((e) => e.passwordMessage('s3cret')), { type: 'AuthResponse', data: Buffer.from('s3cret\0') }],
    [one((e) => e.saslResponse('c=biws,r=abc')), { type: 'AuthResponse', data: Buffer.from('c=biws,r=abc') }],
  ],
  Unknown: [[frame('z'), { type: 'Unknown', code: 0x7a }]],
}

test('every frontend message decodes to what was encoded', () => {
  for (const [type, list] of Object.entries(cases)) {
    for (const [bytes, want] of list) assert.deepEqual(decodeFrontendMessage(bytes), want, type)
  }
})

test('a batch of every message, framed by MessageBuffer, decodes in order', () => {
  const all = Object.values(cases).flat()
  const mb = new MessageBuffer()
  mb.push(Buffer.concat(all.map(([b]) => b)))
  for (const [, want] of all) assert.deepEqual(decodeFrontendMessage(mb.nextFrame()!), want)
  assert.equal(mb.nextFrame(), undefined)
})

test('constant messages are preallocated and appended as they are', () => {
  assert.deepEqual([...SYNC], [0x53, 0, 0, 0, 4])
  assert.equal(sslRequest(), SSL_REQUEST)
  assert.ok(enc.parse('', 'select 1').sync().sync().take().subarray(-10).equals(Buffer.concat([SYNC, SYNC])))
})

test('Bind parameters are views into the frame, not copies', () => {
  const bytes = one((e) => e.bind('', '', [1], [int4], []))
  const msg = decodeFrontendMessage(bytes)
  assert.equal(msg.type, 'Bind')
  if (msg.type !== 'Bind') return
  assert.equal(msg.params[0]!.buffer, bytes.buffer)
})

test('password and SASL payloads decode from the AuthResponse body', () => {
  const auth = (b: Buffer) => {
    const m = decodeFrontendMessage(b)
    assert.equal(m.type, 'AuthResponse')
    return m.type === 'AuthResponse' ? m.data : Buffer.alloc(0)
  }
  assert.equal(decodePassword(auth(one((e) => e.passwordMessage('pw ✓')))), 'pw ✓')
  assert.deepEqual(decodeSaslInitialResponse(auth(one((e) => e.saslInitialResponse('SCRAM-SHA-256', 'n,,n=,r=abc')))), {
    mechanism: 'SCRAM-SHA-256',
    response: Buffer.from('n,,n=,r=abc'),
  })
  assert.deepEqual(decodeSaslInitialResponse(auth(one((e) => e.saslInitialResponse('X', null)))), { mechanism: 'X', response: null })
  assertProtocolViolation(() => decodePassword(Buffer.from('no terminator')))
  assertProtocolViolation(() => decodeSaslInitialResponse(Buffer.concat([Buffer.from('M\0'), int32(10), Buffer.from('short')])))
})

test('startup frames: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest', () => {
  assert.deepEqual(decodeStartupFrame(startupMessage({ user: 'alice', database: 'events', application_name: 'psql ✓' })), {
    type: 'StartupMessage',
    protocolVersion: PROTOCOL_VERSION_3_0,
    params: new Map([['user', 'alice'], ['database', 'events'], ['application_name', 'psql ✓']]),
  })
  const newer = decodeStartupFrame(startupMessage(new Map([['user', 'u'], ['_pq_.x', '1']]), (3 << 16) | 2))
  assert.equal(newer.type === 'StartupMessage' && newer.protocolVersion, 196610)
  assert.deepEqual(decodeStartupFrame(sslRequest()), { type: 'SSLRequest' })
  assert.deepEqual(decodeStartupFrame(gssEncRequest()), { type: 'GSSENCRequest' })
  assert.deepEqual(decodeStartupFrame(cancelRequest(4242, -123456)), { type: 'CancelRequest', pid: 4242, secret: -123456 })
})

test('malformed startup frames', () => {
  const v2 = startupMessage({ user: 'u' }, 2 << 16)
  assert.throws(() => decodeStartupFrame(v2), (e: unknown) => e instanceof PgError && e.code === '0A000' && /unsupported frontend protocol 2\.0/.test(e.message))
  const noTerminator = Buffer.concat([int32(18), int32(PROTOCOL_VERSION_3_0), Buffer.from('user\0alice')])
  assertProtocolViolation(() => decodeStartupFrame(noTerminator), /expected terminator as last byte/)
  const missingValue = Buffer.concat([int32(14), int32(PROTOCOL_VERSION_3_0), Buffer.from('user\0\0')])
  assertProtocolViolation(() => decodeStartupFrame(missingValue))
  const longCancel = Buffer.concat([cancelRequest(1, 2), Buffer.alloc(4)])
  longCancel.writeInt32BE(20, 0)
  assertProtocolViolation(() => decodeStartupFrame(longCancel), 'invalid message format')
  assertProtocolViolation(() => decodeStartupFrame(Buffer.concat([sslRequest(), Buffer.alloc(1)])), 'invalid message format')
})

test('every truncation of a message whose body is fully specified is a protocol violation', () => {
  const open: FrontendMessage['type'][] = ['CopyData', 'AuthResponse', 'FunctionCall', 'Unknown']
  for (const [type, list] of Object.entries(cases)) {
    if (open.includes(type as FrontendMessage['type'])) continue
    for (const [bytes] of list) {
      // Every cut for small frames; for the 70 KB query a few hundred suffice.
      const step = Math.ceil(bytes.length / 500)
      for (let body = 0; body < bytes.length - 5; body += step) {
        assertProtocolViolation(() => decodeFrontendMessage(withBodyLength(bytes, body)))
      }
      if (bytes.length > 5) assertProtocolViolation(() => decodeFrontendMessage(withBodyLength(bytes, bytes.length - 6)))
      assertProtocolViolation(() => decodeFrontendMessage(withBodyLength(bytes, bytes.length - 4)), 'invalid message format')
    }
  }
})

test('malformed Bind: counts past the body, bad format codes, negative lengths', () => {
  const bind = (...parts: (Buffer | string | number)[]) => frame('B', 'p', 's', ...parts)
  // 3 parameters announced, one present
  assertProtocolViolation(() => decodeFrontendMessage(bind(int16(0), int16(3), 2, Buffer.from('ab'), int16(0))), 'insufficient data left in message')
  // 1000 format codes announced, none present
  assertProtocolViolation(() => decodeFrontendMessage(bind(int16(1000))), 'insufficient data left in message')
  // PostgreSQL: ERROR 22023, not a protocol violation (the gateway's session goes on).
  for (const [b, f] of [[bind(int16(1), int16(2), int16(0), int16(0)), 2], [bind(int16(0), int16(0), int16(1), int16(-1)), -1]] as const) {
    assert.throws(() => decodeFrontendMessage(b), (e: unknown) => e instanceof PgError && e.code === '22023' && e.message === `unsupported format code: ${f}`)
  }
  assertProtocolViolation(() => decodeFrontendMessage(bind(int16(0), int16(1), -2, int16(0))), /invalid length of bind parameter 1: -2/)
  assertProtocolViolation(() => decodeFrontendMessage(bind(int16(0), int16(1), 100, Buffer.from('ab'), int16(0))), 'insufficient data left in message')
  assertProtocolViolation(
    () => decodeFrontendMessage(bind(int16(2), int16(0), int16(0), int16(3), -1, -1, -1, int16(0))),
    'bind message has 2 parameter formats but 3 parameters',
  )
  assert.deepEqual(decodeFrontendMessage(bind(int16(0), int16(1), -1, int16(0))), {
    type: 'Bind', portal: 'p', statement: 's', paramFormats: [], params: [null], resultFormats: [],
  })
})

test('other malformed messages: missing terminators, bad subtypes, oversized counts, bad headers', () => {
  assertProtocolViolation(() => decodeFrontendMessage(frame('Q', Buffer.from('select 1'))), 'invalid string in message')
  assertProtocolViolation(() => decodeFrontendMessage(frame('D', Buffer.from('X'), 'name')), 'invalid DESCRIBE message subtype 88')
  assertProtocolViolation(() => decodeFrontendMessage(frame('C', Buffer.from('x'), 'name')), 'invalid CLOSE message subtype 120')
  assertProtocolViolation(() => decodeFrontendMessage(frame('P', '', 'select $1', int16(100), 23)), 'insufficient data left in message')
  assertProtocolViolation(() => decodeFrontendMessage(frame('S', Buffer.from([0]))), 'invalid message format')
  const lying = Buffer.from(SYNC)
  lying.writeInt32BE(5, 1)
  assertProtocolViolation(() => decodeFrontendMessage(lying), 'invalid message format')
  assertProtocolViolation(() => decodeFrontendMessage(Buffer.from([0x53, 0])), 'invalid message format')
})

test('fuzz: mutated frames decode or fail with 08P01, never another exception', () => {
  const random = prng(42)
  const all = Object.values(cases).flat().map(([b]) => b).filter((b) => b.length < 1000)
  for (let i = 0; i < 20_000; i++) {
    const f = Buffer.from(all[i % all.length]!)
    const flips = 1 + Math.floor(random() * 3)
    for (let k = 0; k < flips && f.length > 5; k++) f[5 + Math.floor(random() * (f.length - 5))] = Math.floor(random() * 256)
    assertDecodesOrViolates(() => decodeFrontendMessage(f))
  }
})
