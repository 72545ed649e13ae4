/**
 * Shared by the pgwire tests: hand-built frames (for what the encoders cannot or must not
 * produce) and the assertion that malformed input fails the PostgreSQL way.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import assert from 'node:assert/strict'
import { PgError } from '../errors/pg-error.js'

/** A typed frame: `code`, int32 length, then the parts (numbers are int32, strings are cstrings). */
export function frame(code: number | string, ...parts: (Buffer | string | number)[]): Buffer {
  const body = Buffer.concat(parts.map(part))
  const header = Buffer.alloc(5)
  header[0] = typeof code === 'string' ? code.charCodeAt(0) : code
  header.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

function part(p: Buffer | string | number): Buffer {
  if (typeof p === 'string') return Buffer.from(`${p}\0`)
  if (typeof p === 'number') return int32(p)
  return p
}

export const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}

export const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/** `f` with its body cut (or padded) to `bodyLength` bytes and the length field to match. */
export function withBodyLength(f: Buffer, bodyLength: number): Buffer {
  const out = Buffer.alloc(5 + bodyLength)
  f.copy(out, 0, 0, Math.min(f.length, out.length))
  out.writeInt32BE(bodyLength + 4, 1)
  return out
}

/** Throws unless `fn` fails with a 08P01 PgError (and nothing else, such as a RangeError). */
export function assertProtocolViolation(fn: () => unknown, message?: RegExp | string): void {
  let error: unknown
  try {
    fn()
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, 'expected a protocol violation, got a result')
  assert.ok(error instanceof PgError, `expected a PgError, got ${String(error)}`)
  assert.equal(error.code, '08P01')
  if (typeof message === 'string') assert.equal(error.message, message)
  else if (message) assert.match(error.message, message)
}

/** Decoding mutated input may succeed or fail, but only with a 08P01 PgError (22023 for a format code). */
export function assertDecodesOrViolates(fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof PgError) || (e.code !== '08P01' && e.code !== '22023')) throw e
  }
}

/** A small deterministic PRNG (mulberry32), so fuzz failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Splits `data` into frames by walking the typed headers (independently of MessageBuffer). */
export function splitFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < data.length; ) {
    const end = at + 1 + data.readInt32BE(at + 1)
    out.push(data.subarray(at, end))
    at = end
  }
  return out
}
