/**
 * The client's bound parameters as pruning reads them: text, a text array, or a timestamp in
 * microseconds. A value this cannot read is simply unknown: it never prunes.
 */
import { parseArrayLiteral } from '../../common/text-array.js'
import type { PruneValue } from '../plan/types.js'

const TEXTLIKE = new Set([25, 1043, 19, 1042, 0, 705])
const TEXT_ARRAYS = new Set([1009, 1015, 1014])
const INTS = new Set([20, 21, 23])
const TIMESTAMPS = new Set([1184, 1114])
const TIMESTAMP = 1114
const TIMESTAMPTZ = 1184
const DATE = 1082
const BPCHAR = 1042
const BPCHAR_ARRAY = 1014
const NAME = 19

/**
 * A value of these types as PostgreSQL turns it into text, which is what a comparison with a
 * text column sees: character(n) without its trailing spaces, a name cut to 63 bytes.
 */
function asText(oid: number, text: string): string {
  if (oid === BPCHAR) return text.replace(/ +$/, '')
  if (oid === NAME && Buffer.byteLength(text) > 63) {
    let cut = Buffer.from(text).subarray(0, 63).toString('utf8')
    if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1) // a character cut in two is dropped whole
    return cut
  }
  return text
}
const PG_EPOCH_MICROS = 946_684_800_000_000

/** A binary timestamptz (microseconds since 2000-01-01) in microseconds since the Unix epoch. */
export const binaryTimestamptzMicros = (v: Buffer): number => Number(v.readBigInt64BE(0)) + PG_EPOCH_MICROS

export function pruneValues(types: readonly number[], params: readonly (Buffer | null)[], formats: readonly number[]): PruneValue[] {
  return types.map((oid, i) => {
    const v = params[i]
    if (v === undefined) return undefined
    if (v === null) return { text: null }
    if (formats[i] !== 1) {
      const text = v.toString('utf8')
      if (TEXT_ARRAYS.has(oid)) {
        const arr = parseArrayLiteral(text)
        return arr ? { array: oid === BPCHAR_ARRAY ? arr.map((x) => (x === null ? x : x.replace(/ +$/, ''))) : arr } : undefined
      }
      if (oid === TIMESTAMP) return { text, withoutZone: true }
      if (oid === TIMESTAMPTZ) return { text, instant: true }
      if (oid === DATE) {
        // A date drops any time and zone written after it: midnight, in the session's zone. A
        // word after it (BC, a zone name) is not read here: that value does not prune ('2026-10-08
        // BC' was read as AD, and every edge skipped).
        const m = /^\s*(\d{4}-\d{2}-\d{2})(?![\d])(.*)$/s.exec(text)
        return m && /^[\sT\d:.+-]*$/.test(m[2]!) ? { text: m[1]!, withoutZone: true } : undefined
      }
      return { text: asText(oid, text) }
    }
    if (TEXTLIKE.has(oid)) return { text: asText(oid, v.toString('utf8')) }
    if (INTS.has(oid)) return { text: String(v.length === 8 ? v.readBigInt64BE(0) : v.length === 4 ? v.readInt32BE(0) : v.readInt16BE(0)) }
    if (oid === 1184 && v.length === 8) return { micros: binaryTimestamptzMicros(v) }
    if (TEXT_ARRAYS.has(oid)) {
      const decoded = decodeTextArray(v)
      return oid === BPCHAR_ARRAY && decoded && 'array' in decoded ? { array: decoded.array.map((x) => (x === null ? x : x.replace(/ +$/, ''))) } : decoded
    }
    if (TIMESTAMPS.has(oid)) return undefined
    return undefined
  })
}

/** A one-dimensional text[] in binary form. */
function decodeTextArray(b: Buffer): PruneValue {
  if (b.length < 12) return undefined
  const ndim = b.readInt32BE(0)
  if (ndim === 0) return { array: [] }
  if (ndim !== 1) return undefined
  const n = b.readInt32BE(12)
  let pos = 20
  const out: (string | null)[] = []
  for (let i = 0; i < n; i++) {
    const len = b.readInt32BE(pos)
    pos += 4
    if (len < 0) out.push(null)
    else {
      out.push(b.toString('utf8', pos, pos + len))
      pos += len
    }
  }
  return { array: out }
}
