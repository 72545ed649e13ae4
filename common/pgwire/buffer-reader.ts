import { protocolViolation } from '../errors/pg-error.js'

const empty = Buffer.alloc(0)

/** PostgreSQL's wording (pqformat.c), so clients see the messages they know. */
const INSUFFICIENT_DATA = 'insufficient data left in message'
const INVALID_STRING = 'invalid string in message'
const INVALID_FORMAT = 'invalid message format'

/**
 * A reusable cursor over one message body. Every read is bounds-checked against `end` (the
 * message's end, not the buffer's: frames are often views into a larger socket chunk) and
 * throws a 08P01 PgError rather than reading into the next message or raising a RangeError.
 *
 * Reads return numbers, strings, or zero-copy views (`bytes`); nothing else is allocated, so
 * one reader per decoder can serve every message.
 */
export class BufferReader {
  #buf: Buffer = empty
  #offset = 0
  #end = 0

  /** Points the cursor at `buf[offset, end)`. A plain Uint8Array is viewed as a Buffer, not copied. */
  reset(buf: Uint8Array, offset = 0, end = buf.length): this {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
    this.#offset = offset
    this.#end = end
    return this
  }

  /** Drops the reference to the last message so a large buffer is not kept alive by the decoder. */
  release(): void {
    this.#buf = empty
    this.#offset = 0
    this.#end = 0
  }

  get offset(): number {
    return this.#offset
  }

  get remaining(): number {
    return this.#end - this.#offset
  }

  /** The buffer being read (for callers that keep offsets instead of slices). */
  get buffer(): Buffer {
    return this.#buf
  }

  #need(n: number): number {
    const at = this.#offset
    if (n < 0 || at + n > this.#end) throw protocolViolation(INSUFFICIENT_DATA)
    this.#offset = at + n
    return at
  }

  int8(): number {
    return this.#buf.readInt8(this.#need(1))
  }

  uint8(): number {
    return this.#buf[this.#need(1)]
  }

  int16(): number {
    return this.#buf.readInt16BE(this.#need(2))
  }

  /** Counts (parameters, columns, formats) are unsigned 16-bit in PostgreSQL (pq_getmsgint). */
  uint16(): number {
    return this.#buf.readUInt16BE(this.#need(2))
  }

  int32(): number {
    return this.#buf.readInt32BE(this.#need(4))
  }

  /** OIDs are unsigned 32-bit. */
  uint32(): number {
    return this.#buf.readUInt32BE(this.#need(4))
  }

  /** A NUL-terminated UTF-8 string; the terminator must lie inside the message. */
  cstring(): string {
    const start = this.#offset
    const nul = this.#buf.indexOf(0, start)
    if (nul < 0 || nul >= this.#end) throw protocolViolation(INVALID_STRING)
    this.#offset = nul + 1
    return this.#buf.toString('utf8', start, nul)
  }

  /** `n` bytes as a view into the message (no copy); it lives as long as the frame does. */
  bytes(n: number): Buffer {
    const at = this.#need(n)
    return this.#buf.subarray(at, at + n)
  }

  /** The rest of the message as a view (CopyData payloads, SASL data). */
  rest(): Buffer {
    return this.bytes(this.#end - this.#offset)
  }

  /** `n` bytes decoded as UTF-8. */
  string(n: number): string {
    const at = this.#need(n)
    return this.#buf.toString('utf8', at, at + n)
  }

  skip(n: number): void {
    this.#need(n)
  }

  /** Rejects trailing bytes, as PostgreSQL's pq_getmsgend does. */
  end(): void {
    if (this.#offset !== this.#end) throw protocolViolation(INVALID_FORMAT)
  }
}
