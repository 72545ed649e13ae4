import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageBuffer } from './message-buffer.js'
import { FrontendEncoder, sslRequest, startupMessage } from './frontend-encoder.js'
import { assertProtocolViolation, int32, prng, splitFrames } from './test-helpers.js'

/** Several messages of different shapes: empty bodies, a multi-chunk parameter, UTF-8. */
const stream = new FrontendEncoder()
  .query('select 1')
  .parse('s1', 'select $1::text, $2::int4', [25, 23])
  .bind('', 's1', [0, 1], ['héllo ✓', int32(42)], [1])
  .describe('P', '')
  .execute('', 0)
  .sync()
  .copyData(Buffer.alloc(700, 7))
  .copyDone()
  .terminate()
  .take()
const expected = splitFrames(stream)

function drain(mb: MessageBuffer, into: Buffer[]): void {
  for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) into.push(f)
}

function assertFrames(actual: Buffer[], want: Buffer[], context: string): void {
  assert.equal(actual.length, want.length, `${context}: frame count`)
  for (let i = 0; i < want.length; i++) {
    if (!actual[i]!.equals(want[i]!)) assert.fail(`${context}: frame ${i} differs`)
  }
}

test('a stream split in two at every byte offset yields the same frames', () => {
  assert.equal(expected.length, 9)
  for (let cut = 0; cut <= stream.length; cut++) {
    const mb = new MessageBuffer()
    const frames: Buffer[] = []
    mb.push(stream.subarray(0, cut))
    drain(mb, frames)
    mb.push(stream.subarray(cut))
    drain(mb, frames)
    assertFrames(frames, expected, `cut at ${cut}`)
    assert.equal(mb.bufferedBytes, 0)
  }
})

test('a stream fed one byte at a time yields the same frames', () => {
  const mb = new MessageBuffer()
  const frames: Buffer[] = []
  for (let i = 0; i < stream.length; i++) {
    mb.push(stream.subarray(i, i + 1))
    drain(mb, frames)
  }
  assertFrames(frames, expected, '1-byte chunks')
})

test('random chunkings, with several chunks pushed before draining, yield the same frames', () => {
  const random = prng(7)
  for (let round = 0; round < 300; round++) {
    const mb = new MessageBuffer()
    const frames: Buffer[] = []
    for (let at = 0; at < stream.length; ) {
      const n = 1 + Math.floor(random() * 64)
      mb.push(stream.subarray(at, at + n))
      at += n
      if (random() < 0.5) drain(mb, frames)
    }
    drain(mb, frames)
    assertFrames(frames, expected, `round ${round}`)
  }
})

test('a frame inside one chunk is a view of it, not a copy', () => {
  const mb = new MessageBuffer()
  mb.push(stream)
  const first = mb.nextFrame()!
  assert.equal(first.buffer, stream.buffer)
  assert.equal(first.byteOffset, stream.byteOffset)
})

test('frames held by the caller stay intact while more chunks arrive', () => {
  const mb = new MessageBuffer()
  const held: Buffer[] = []
  const snapshots: Buffer[] = []
  // Cut so that frames straddle chunks (copied) and lie within them (views).
  for (let at = 0; at < stream.length; at += 37) {
    mb.push(Buffer.from(stream.subarray(at, at + 37)))
    for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) {
      held.push(f)
      snapshots.push(Buffer.from(f))
    }
  }
  assertFrames(held, snapshots, 'held frames')
  assertFrames(held, expected, 'held frames')
})

test('a large message arriving in many chunks is assembled with one allocation of its size', () => {
  const big = new FrontendEncoder().copyData(Buffer.alloc(4 * 1024 * 1024, 1)).sync().take()
  const mb = new MessageBuffer()
  const frames: Buffer[] = []
  for (let at = 0; at < big.length; at += 1000) {
    mb.push(big.subarray(at, at + 1000))
    drain(mb, frames)
  }
  assert.equal(frames.length, 2)
  assert.equal(frames[0]!.length, 4 * 1024 * 1024 + 5)
  assert.equal(frames[0]!.buffer.byteLength, frames[0]!.length) // exactly its size, allocated once
  assert.ok(frames[0]!.equals(big.subarray(0, frames[0]!.length)))
})

test('startup frames, then typed frames once the caller switches phase', () => {
  const startup = startupMessage({ user: 'alice', database: 'events' })
  const all = Buffer.concat([sslRequest(), startup, stream])
  for (let cut = 0; cut <= all.length; cut += 3) {
    const mb = new MessageBuffer({ startup: true })
    const frames: Buffer[] = []
    const take = () => {
      for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) {
        frames.push(f)
        if (frames.length === 2) mb.startupPhase = false // after the StartupMessage
      }
    }
    mb.push(all.subarray(0, cut))
    take()
    mb.push(all.subarray(cut))
    take()
    assertFrames(frames, [sslRequest(), startup, ...expected], `cut at ${cut}`)
  }
})

test('bufferedBytes counts what is not yet a frame (nothing may follow an SSLRequest)', () => {
  const mb = new MessageBuffer({ startup: true })
  mb.push(Buffer.concat([sslRequest(), Buffer.from('Q\0\0')]))
  assert.ok(mb.nextFrame()!.equals(sslRequest()))
  assert.equal(mb.bufferedBytes, 3)
})

test('a length over the limit fails as soon as the header arrives, naming the length', () => {
  const mb = new MessageBuffer()
  mb.push(Buffer.from([0x51, 0x7f, 0xff]))
  assert.equal(mb.nextFrame(), undefined)
  mb.push(Buffer.from([0xff, 0xff]))
  assertProtocolViolation(() => mb.nextFrame(), /invalid message length: 2147483647/)
})

test('a configurable limit, and lengths below 4, are protocol violations', () => {
  const small = new MessageBuffer({ maxMessageLength: 100 })
  small.push(Buffer.from([0x51, 0, 0, 0, 101]))
  assertProtocolViolation(() => small.nextFrame(), /101/)
  for (const len of [3, 0, -1]) {
    const mb = new MessageBuffer()
    mb.push(Buffer.concat([Buffer.from('Q'), int32(len)]))
    assertProtocolViolation(() => mb.nextFrame(), new RegExp(`invalid message length: ${len}`))
  }
})

test('startup lengths outside 8 … 10000 are protocol violations', () => {
  for (const len of [4, 7, 10001, 0x7fffffff]) {
    const mb = new MessageBuffer({ startup: true })
    mb.push(int32(len))
    assertProtocolViolation(() => mb.nextFrame(), new RegExp(`invalid length of startup packet: ${len}`))
  }
})

test('the phase cannot change in the middle of a frame', () => {
  const mb = new MessageBuffer()
  mb.push(stream.subarray(0, 3))
  assert.equal(mb.nextFrame(), undefined)
  assert.throws(() => {
    mb.startupPhase = true
  })
})
