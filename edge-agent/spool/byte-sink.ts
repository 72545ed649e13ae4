/**
 * A growable byte buffer that rows are written into as COPY text, straight from the bytes
 * KubeArmor sent: strings are copied, not decoded to JavaScript and encoded again.
 */
import { isUtf8 } from 'node:buffer'

const BACKSLASH = 0x5c
/**
 * What a NUL character is stored as. PostgreSQL's text and jsonb cannot hold one: a single event
 * with a NUL in a field failed its whole commit batch, then the row-by-row retry, and stopped the
 * store for good. U+FFFD, the replacement character, keeps the event and shows where it was.
 */
const REPLACEMENT = '\uFFFD'

/** U+FFFD's UTF-8 bytes at `o`; the position after them. */
function writeReplacement(out: Buffer, o: number): number {
  out[o] = 0xef
  out[o + 1] = 0xbf
  out[o + 2] = 0xbd
  return o + 3
}

export class ByteSink {
  buf: Buffer
  len = 0

  constructor(initial = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  byte(b: number): void {
    this.ensure(1)
    this.buf[this.len++] = b
  }

  /** ASCII text known to need no escaping (numbers, timestamps, `\N`). */
  ascii(s: string): void {
    this.ensure(s.length)
    this.len += this.buf.write(s, this.len, 'latin1')
  }

  /** A JavaScript string, UTF-8 encoded as it is (already COPY text). */
  utf8(s: string): void {
    this.ensure(Buffer.byteLength(s))
    this.len += this.buf.write(s, this.len, 'utf8')
  }

  /** A JavaScript string, UTF-8 encoded, COPY-escaped (a NUL as U+FFFD, as everywhere here). */
  text(s: string): void {
    if (s.includes('\u0000')) s = s.replaceAll('\u0000', REPLACEMENT)
    const n = Buffer.byteLength(s)
    this.ensure(n * 2)
    const start = this.len
    this.len += this.buf.write(s, start, 'utf8')
    this.#escapeInPlace(start)
  }

  /**
   * Bytes of a protobuf string field, COPY-escaped. Invalid UTF-8 (which proto3 forbids but a
   * broken sender might send) is replaced as a decoder would, so PostgreSQL never rejects the row.
   */
  copyEscaped(src: Buffer, start: number, end: number): void {
    this.ensure((end - start) * 3)
    const out = this.buf
    let o = this.len
    let ascii = true
    for (let i = start; i < end; i++) {
      const b = src[i]!
      if (b >= 0x80) ascii = false
      else if (b === 0) {
        o = writeReplacement(out, o)
        continue
      } else if (b === BACKSLASH) {
        out[o++] = BACKSLASH
      } else if (b === 9 || b === 10 || b === 13) {
        out[o++] = BACKSLASH
        out[o++] = b === 9 ? 0x74 : b === 10 ? 0x6e : 0x72
        continue
      }
      out[o++] = b
    }
    if (!ascii && !isUtf8(src.subarray(start, end))) {
      this.text(src.toString('utf8', start, end))
      return
    }
    this.len = o
  }

  /**
   * Bytes as the contents of a JSON string (without quotes), then COPY-escaped: for jsonb fields.
   * UTF-8 is checked only when a byte is not ASCII (the common case needs no native call).
   */
  jsonEscaped(src: Buffer, start: number, end: number): void {
    this.ensure((end - start) * 12)
    const out = this.buf
    let o = this.len
    let checked = false
    for (let i = start; i < end; i++) {
      const b = src[i]!
      if (b >= 0x80 && !checked) {
        // Everything before i is ASCII, so the whole field is valid if the rest is.
        if (!isUtf8(src.subarray(i, end))) {
          this.text(JSON.stringify(src.toString('utf8', start, end).replaceAll('\u0000', REPLACEMENT)).slice(1, -1))
          return
        }
        checked = true
      }
      if (b === 0x22 || b === BACKSLASH) {
        // JSON escapes the character with a backslash, which COPY doubles.
        out[o++] = BACKSLASH
        out[o++] = BACKSLASH
        if (b === BACKSLASH) {
          out[o++] = BACKSLASH
          out[o++] = BACKSLASH
        } else out[o++] = b
      } else if (b === 0) {
        o = writeReplacement(out, o)
      } else if (b < 0x20) {
        out[o++] = BACKSLASH
        out[o++] = BACKSLASH
        const short = b === 8 ? 0x62 : b === 9 ? 0x74 : b === 10 ? 0x6e : b === 12 ? 0x66 : b === 13 ? 0x72 : 0
        if (short) out[o++] = short
        else o += out.write('u00' + b.toString(16).padStart(2, '0'), o, 'latin1')
      } else out[o++] = b
    }
    this.len = o
  }

  #escapeInPlace(start: number): void {
    let specials = 0
    for (let i = start; i < this.len; i++) {
      const b = this.buf[i]!
      if (b === BACKSLASH || b === 9 || b === 10 || b === 13) specials++
    }
    if (specials === 0) return
    const raw = Buffer.from(this.buf.subarray(start, this.len))
    this.len = start
    this.ensure(raw.length + specials)
    for (const b of raw) {
      if (b === BACKSLASH) this.buf[this.len++] = BACKSLASH
      else if (b === 9 || b === 10 || b === 13) {
        this.buf[this.len++] = BACKSLASH
        this.buf[this.len++] = b === 9 ? 0x74 : b === 10 ? 0x6e : 0x72
        continue
      }
      this.buf[this.len++] = b
    }
  }

  /** Takes the bytes written so far and starts over (the buffer is reused). */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len))
    this.len = 0
    return out
  }
}
