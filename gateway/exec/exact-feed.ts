/**
 * Values the edges send to the local engine, exactly. The edges run a feed under the session's
 * output settings, since a condition such as `x::text LIKE ...` or a group on `time::date::text`
 * must see the session's text. Some of that text does not read back as the same value:
 * - under extra_float_digits < 1 a float is written rounded to 15 (or fewer) digits: two
 *   grouping keys that differ in the 16th digit became one group, and avg(pid::float8) came out
 *   9e+04 under extra_float_digits = -15, against 1e+05;
 * - the SQL, Postgres and German date styles write a timestamptz's zone as an abbreviation
 *   ('IST'), which does not name one offset.
 * So under such settings those columns are fetched in binary and written out here as text that
 * reads back as the same value (binary-values.ts).
 */
import { rowTexts } from '../session/shadow-exchange.js'
import { array, date, float, timestamp, timestamptz, type BinaryText } from './binary-values.js'

const FLOATS: Record<string, BinaryText> = {
  real: float,
  'double precision': float,
  'real[]': array(float, false),
  'double precision[]': array(float, false),
}

const DATES: Record<string, BinaryText> = {
  date,
  timestamp,
  timestamptz,
  'date[]': array(date, true),
  'timestamp[]': array(timestamp, true),
  'timestamptz[]': array(timestamptz, true),
}

/** How a feed's columns are fetched: result formats (none: all text) and the reader of each binary one. */
export interface FeedFormats {
  readonly formats: readonly number[]
  readonly readers: readonly (BinaryText | undefined)[]
}

const ALL_TEXT: FeedFormats = { formats: [], readers: [] }

/** The session's output settings that decide which columns go binary. */
export interface FeedOutput {
  readonly extraFloatDigits: string | undefined
  readonly dateStyle: string | undefined
}

/**
 * Result formats for a feed whose columns have these types: binary for floats when the session's
 * extra_float_digits would round them and for dates and times under a date style other than
 * ISO; text for the rest.
 */
export function feedFormats(types: readonly (string | undefined)[], out: FeedOutput): FeedFormats {
  const exactFloats = !(Number(out.extraFloatDigits ?? '1') >= 1)
  const isoDates = /^\s*iso\b/i.test(out.dateStyle ?? 'ISO')
  const readers = types.map((t) => (t === undefined ? undefined : ((exactFloats ? FLOATS[t] : undefined) ?? (isoDates ? undefined : DATES[t]))))
  if (readers.every((r) => r === undefined)) return ALL_TEXT
  return { formats: readers.map((r) => (r ? 1 : 0)), readers }
}

/** A feed row's values as text, binary columns written out exactly. */
export const feedTexts = (frame: Buffer, f: FeedFormats): (string | null)[] => rowTexts(frame, f.readers)
