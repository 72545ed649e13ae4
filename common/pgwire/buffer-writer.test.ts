import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BufferWriter } from './buffer-writer.js'
import { BufferReader } from './buffer-reader.js'
import { assertProtocolViolation, splitFrames } from './test-helpers.js'

test('flush(code) back-patches the type byte and the length', () => {
  const w = new BufferWriter()
  const out = w.addInt32(1).addCString('ab').flush(0x51)
  assert.deepEqual([...out], [0x51, 0, 0, 0, 11, 0, 0, 0, 1, 0x61, 0x62, 0])
  assert.deepEqual([...w.flush(0x53)], [0x53, 0, 0, 0, 4])
})

test('messages batch into one buffer until flushed', () => {
  const w = new BufferWriter(64)
  for (let i = 0; i < 100; i++) w.addInt32(i).endMessage(0x44)
  w.addMessage(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))
  assert.equal(w.pendingBytes, 100 * 9 + 6)
  const frames = splitFrames(w.flush())
  assert.equal(frames.length, 101)
  assert.equal(frames[57]!.readInt32BE(5), 57)
  assert.equal(frames[100]![5], 0x49)
  assert.equal(w.pendingBytes, 0)
  assert.equal(w.flush().length, 0)
})

test('flushed buffers are never overwritten by later messages, across slab growth', () => {
  const w = new BufferWriter(64)
  const kept: [Buffer, Buffer][] = []
  for (let i = 0; i < 200; i++) {
    const out = w.addString('x'.repeat(i % 50)).addInt32(i).flush(0x64)
    kept.push([out, Buffer.from(out)])
  }
  for (const [out, copy] of kept) assert.ok(out.equals(copy))
})

test('integers: signed and unsigned 32-bit, 16-bit wrap, 8-bit', () => {
  const out = new BufferWriter().addInt32(-1).addInt32(4294967295).addInt32(-2147483648).addInt16(-2).addInt16(65535).addInt8(255).flush(0x78)
  const r = new BufferReader().reset(out, 5)
  assert.equal(r.int32(), -1)
  assert.equal(r.uint32(), 4294967295)
  assert.equal(r.int32(), -2147483648)
  assert.equal(r.int16(), -2)
  assert.equal(r.uint16(), 65535)
  assert.equal(r.uint8(), 255)
  r.end()
})

test('strings are measured in UTF-8 bytes, short and long, with lone surrogates', () => {
  const samples = ['', 'abc', 'héllo ✓', '😀'.repeat(10), 'é'.repeat(40_000), '\ud800x', 'a'.repeat(100_000)]
  for (const s of samples) {
    const out = new BufferWriter(64).addInt32PrefixedString(s).addCString(s).addString(s).flush(0x64)
    const r = new BufferReader().reset(out, 5)
    const n = r.int32()
    assert.equal(n, Buffer.byteLength(s))
    const decoded = Buffer.from(s).toString()
    assert.equal(r.string(n), decoded)
    assert.equal(r.cstring(), decoded)
    assert.equal(r.string(n), decoded)
    r.end()
  }
})

test('a very large value grows the slab once, to about its size', () => {
  const big = Buffer.alloc(10 * 1024 * 1024, 3)
  const out = new BufferWriter().addInt16(1).addInt32PrefixedBytes(big).flush(0x44)
  assert.equal(out.length, 5 + 2 + 4 + big.length)
  assert.ok(out.buffer.byteLength < 11 * 1024 * 1024)
})

test('a slab grown for a large batch is let go once it is flushed', () => {
  const w = new BufferWriter(4096)
  const big = w.addInt32PrefixedBytes(Buffer.alloc(8 * 1024 * 1024, 7)).flush(0x44)
  const small = w.addCString('SELECT 1').flush(0x51)
  // A later batch is a view into a slab of the usual size, not into the large one (whose batch stays intact).
  assert.ok(small.buffer.byteLength <= 4096 + 8192)
  assert.deepEqual([...small], [0x51, 0, 0, 0, 13, ...Buffer.from('SELECT 1'), 0])
  assert.equal(big.length, 5 + 4 + 8 * 1024 * 1024)
  assert.ok(big.subarray(9).every((b) => b === 7))
})

test('untyped (startup) frames carry only the int32 length', () => {
  const w = new BufferWriter()
  const out = w.addInt32(196608).addCString('user').addCString('u').addInt8(0).flushUntyped()
  assert.equal(out.readInt32BE(0), out.length)
  assert.equal(out.length, 4 + 4 + 5 + 2 + 1)
  assert.equal(w.addInt8(1).flush(0x51).length, 6) // the writer goes on with typed messages
})

test('misuse is a programming error, not a protocol one', () => {
  const w = new BufferWriter()
  w.addInt32(1)
  assert.throws(() => w.flush(), /unfinished/)
  assert.throws(() => w.addMessage(Buffer.alloc(5)), /unfinished/)
  w.discardMessage()
  assert.equal(w.flush().length, 0)
})

test('the reader checks bounds against the message end, not the buffer end', () => {
  // "ab\0" lies past the message's end: the cstring must not be found there.
  const buf = Buffer.from([1, 2, 3, 0x61, 0x62, 0])
  const r = new BufferReader()
  assertProtocolViolation(() => r.reset(buf, 3, 5).cstring(), 'invalid string in message')
  assertProtocolViolation(() => r.reset(buf, 0, 3).int32(), 'insufficient data left in message')
  assertProtocolViolation(() => r.reset(buf, 0, 1).int16(), 'insufficient data left in message')
  assertProtocolViolation(() => r.reset(buf, 0, 0).uint8(), 'insufficient data left in message')
  assertProtocolViolation(() => r.reset(buf, 0, 3).bytes(4), 'insufficient data left in message')
  assertProtocolViolation(() => r.reset(buf, 0, 3).bytes(-1), 'insufficient data left in message')
  assertProtocolViolation(() => r.reset(buf, 0, 3).string(4), 'insufficient data left in message')
  assertProtocolViolation(() => r.reset(buf, 0, 3).end(), 'invalid message format')
  assert.deepEqual([...r.reset(new Uint8Array(buf), 1, 3).bytes(2)], [2, 3])
})
