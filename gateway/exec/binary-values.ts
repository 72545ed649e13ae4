/**
 * Values PostgreSQL sent in binary, written out as text that reads back as the same value under
 * any session settings: floats in their shortest exact form, dates and times in the ISO style
 * (a timestamptz in UTC with its offset), arrays of them as array literals.
 */

/** Writes one binary value (its bytes at `pos`, `len` long) as text. */
export type BinaryText = (b: Buffer, pos: number, len: number) => string

/** A float as PostgreSQL reads it back exactly (NaN, Infinity and -0 as PostgreSQL writes them). */
function floatText(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v)
}

export const float: BinaryText = (b, pos, len) => floatText(len === 4 ? b.readFloatBE(pos) : b.readDoubleBE(pos))

const DAY_MS = 86_400_000
const DAY_US = 86_400_000_000n
/** Days in 400 Gregorian years: the calendar repeats after them. */
const CYCLE_DAYS = 146_097
const Y2000_MS = Date.UTC(2000, 0, 1)
const pad = (n: number, width: number) => String(n).padStart(width, '0')

/**
 * Year, month and day of a day counted from 2000-01-01 (PostgreSQL's epoch), in the proleptic
 * Gregorian calendar PostgreSQL uses. The day is first brought within 400 years of 2000, where
 * Date's range is sure to hold, and the cycles are added back to the year.
 */
function civil(day: number): { year: number; month: number; day: number } {
  const cycles = Math.floor(day / CYCLE_DAYS)
  const d = new Date(Y2000_MS + (day - cycles * CYCLE_DAYS) * DAY_MS)
  return { year: d.getUTCFullYear() + cycles * 400, month: d.getUTCMonth() + 1, day: d.getUTCDate() }
}

/** `YYYY-MM-DD`, and whether it is BC (year 0 is 1 BC). */
function isoDate(day: number): [string, boolean] {
  const c = civil(day)
  const bc = c.year <= 0
  return [`${pad(bc ? 1 - c.year : c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}`, bc]
}

/** date: days since 2000-01-01; the extreme int32 values are ±infinity. */
export const date: BinaryText = (b, pos) => {
  const v = b.readInt32BE(pos)
  if (v === 0x7fffffff) return 'infinity'
  if (v === -0x80000000) return '-infinity'
  const [text, bc] = isoDate(v)
  return bc ? `${text} BC` : text
}

const INT64_MAX = 0x7fffffffffffffffn
const INT64_MIN = -0x8000000000000000n

/** timestamp (or timestamptz, `zone` '+00'): microseconds since 2000-01-01 00:00, ±infinity at the int64 extremes. */
function timestampText(us: bigint, zone: string): string {
  if (us === INT64_MAX) return 'infinity'
  if (us === INT64_MIN) return '-infinity'
  let day = us / DAY_US
  let rest = us - day * DAY_US
  if (rest < 0n) {
    day -= 1n
    rest += DAY_US
  }
  const [dateText, bc] = isoDate(Number(day))
  const micros = Number(rest)
  const secs = Math.floor(micros / 1_000_000)
  const frac = micros % 1_000_000
  const time = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`
  const fraction = frac === 0 ? '' : '.' + pad(frac, 6).replace(/0+$/, '')
  return `${dateText} ${time}${fraction}${zone}${bc ? ' BC' : ''}`
}

export const timestamp: BinaryText = (b, pos) => timestampText(b.readBigInt64BE(pos), '')
export const timestamptz: BinaryText = (b, pos) => timestampText(b.readBigInt64BE(pos), '+00')

/**
 * A binary array (any dimensions and lower bounds) as an array literal, each element written by
 * `element` and double-quoted when `quote` (dates and times hold spaces).
 */
export function array(element: BinaryText, quote: boolean): BinaryText {
  return (b, start) => {
    const ndim = b.readInt32BE(start)
    let pos = start + 12
    const dims: number[] = []
    const bounds: number[] = []
    for (let d = 0; d < ndim; d++) {
      dims.push(b.readInt32BE(pos))
      bounds.push(b.readInt32BE(pos + 4))
      pos += 8
    }
    if (ndim === 0) return '{}'
    const next = (): string => {
      const len = b.readInt32BE(pos)
      pos += 4
      if (len < 0) return 'NULL'
      const t = element(b, pos, len)
      pos += len
      return quote ? `"${t}"` : t
    }
    const level = (d: number): string => {
      const parts: string[] = []
      for (let i = 0; i < dims[d]!; i++) parts.push(d === ndim - 1 ? next() : level(d + 1))
      return '{' + parts.join(',') + '}'
    }
    const prefix = bounds.some((lb) => lb !== 1) ? bounds.map((lb, d) => `[${lb}:${lb + dims[d]! - 1}]`).join('') + '=' : ''
    return prefix + level(0)
  }
}

/** A one-dimensional array of `elementType` in binary form (array_send's layout), from its elements' binary values. */
export function binaryArray(elementType: number, values: readonly (Buffer | null)[]): Buffer {
  const head = Buffer.alloc(values.length === 0 ? 12 : 20)
  head.writeInt32BE(values.length === 0 ? 0 : 1, 0)
  head.writeInt32BE(values.some((v) => v === null) ? 1 : 0, 4)
  head.writeInt32BE(elementType, 8)
  if (values.length === 0) return head
  head.writeInt32BE(values.length, 12)
  head.writeInt32BE(1, 16)
  const parts: Buffer[] = [head]
  for (const v of values) {
    const len = Buffer.alloc(4)
    len.writeInt32BE(v === null ? -1 : v.length, 0)
    parts.push(len)
    if (v) parts.push(v)
  }
  return Buffer.concat(parts)
}
