/**
 * Floats the edges send to the local engine, exactly. The edges run a feed under the session's
 * extra_float_digits (a condition such as `x::text LIKE ...` must see the session's text), and
 * below 1 PostgreSQL writes a float rounded to 15 (or fewer) digits: partial sums and float
 * grouping keys read back from that text were other values (two keys that differ in the 16th
 * digit became one group; avg(pid::float8) came out 9e+04 under extra_float_digits = -15, against
 * 1e+05). So under such a setting, float columns are fetched in binary and written out here in
 * the shortest text that reads back as the same value.
 */
import { rowTexts } from '../session/shadow-exchange.js'

const FLOAT_TYPES = new Set(['real', 'double precision', 'real[]', 'double precision[]'])
const FLOAT4 = 700

/**
 * Result formats for a feed whose columns have these types: binary for the floats when the
 * session's extra_float_digits would round them, else none (all text).
 */
export function exactFloatFormats(types: readonly (string | undefined)[], extraFloatDigits: string | undefined): number[] {
  const digits = Number(extraFloatDigits ?? '1')
  if (!(digits < 1) || !types.some((t) => t !== undefined && FLOAT_TYPES.has(t))) return []
  return types.map((t) => (t !== undefined && FLOAT_TYPES.has(t) ? 1 : 0))
}

/** A float as PostgreSQL reads it back exactly (NaN, Infinity and -0 as PostgreSQL writes them). */
function floatText(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v)
}

function floatAt(b: Buffer, pos: number, len: number, oid: number): string {
  return floatText(oid === FLOAT4 || len === 4 ? b.readFloatBE(pos) : b.readDoubleBE(pos))
}

/** A binary float array (any dimensions and bounds) as an array literal. */
function floatArrayText(b: Buffer, start: number): string {
  const ndim = b.readInt32BE(start)
  const oid = b.readInt32BE(start + 8)
  let pos = start + 12
  const dims: number[] = []
  const bounds: number[] = []
  for (let d = 0; d < ndim; d++) {
    dims.push(b.readInt32BE(pos))
    bounds.push(b.readInt32BE(pos + 4))
    pos += 8
  }
  if (ndim === 0) return '{}'
  const element = (): string => {
    const len = b.readInt32BE(pos)
    pos += 4
    if (len < 0) return 'NULL'
    const t = floatAt(b, pos, len, oid)
    pos += len
    return t
  }
  const level = (d: number): string => {
    const parts: string[] = []
    for (let i = 0; i < dims[d]!; i++) parts.push(d === ndim - 1 ? element() : level(d + 1))
    return '{' + parts.join(',') + '}'
  }
  const prefix = bounds.some((lb) => lb !== 1) ? bounds.map((lb, d) => `[${lb}:${lb + dims[d]! - 1}]`).join('') + '=' : ''
  return prefix + level(0)
}

/** A feed row's values as text, floats fetched in binary (`formats` 1) written out exactly. */
export function feedTexts(frame: Buffer, formats: readonly number[]): (string | null)[] {
  return rowTexts(frame, formats, binaryFloatText)
}

function binaryFloatText(frame: Buffer, pos: number, len: number): string {
  return len === 4 || len === 8 ? floatAt(frame, pos, len, 0) : floatArrayText(frame, pos)
}
