/**
 * Values as pruning reads them: the text, text arrays and instants that a conjunct compares a
 * synopsis column with, from constants, casts that keep the value's text, and bound parameters;
 * instants also from timestamptz ± a fixed-length interval in a UTC session. Anything else is
 * undefined, and prunes nothing.
 */
import { body, kind, lastTypeName, type Node } from './ast.js'
import { parseTimestampMicros } from './timestamp-literal.js'
import type { PruneValue } from './types.js'
import { parseArrayLiteral } from '../../common/text-array.js'

export interface PruneContext {
  readonly params: readonly PruneValue[]
  readonly utcSession: boolean
}

/** A constant or parameter as text, if it is one (casts to text types allowed). */
export function textValue(n: unknown, ctx: PruneContext): string | null | undefined {
  const k = kind(n)
  if (k === 'A_Const') {
    const c = body(n)
    if (c.isnull) return null
    return (c.sval as { sval?: string } | undefined)?.sval ?? undefined
  }
  if (k === 'ParamRef') {
    const v = ctx.params[Number(body(n).number) - 1]
    return v && 'text' in v ? v.text : undefined
  }
  if (k === 'TypeCast') {
    const t = typeNameOf(body(n))
    if (t === 'text' || t === 'varchar') return textValue(body(n).arg, ctx)
  }
  return undefined
}

/**
 * The type a cast names, or '' when the cast can change the value's text: a length or precision
 * (varchar(7) cuts 'node-1a-x' to 'node-1a'; timestamptz(0) rounds) or an array type.
 */
function typeNameOf(cast: Node): string {
  const tn = cast.typeName as Node
  if (tn.typmods !== undefined || tn.arrayBounds !== undefined) return ''
  return lastTypeName(tn).toLowerCase()
}

export function arrayValues(n: unknown, ctx: PruneContext): (string | null)[] | undefined {
  const k = kind(n)
  if (k === 'A_ArrayExpr') {
    const out: (string | null)[] = []
    for (const e of (body(n).elements as Node[] | undefined) ?? []) {
      const v = textValue(e, ctx)
      if (v === undefined) return undefined
      out.push(v)
    }
    return out
  }
  if (k === 'ParamRef') {
    const v = ctx.params[Number(body(n).number) - 1]
    return v && 'array' in v ? [...v.array] : undefined
  }
  if (k === 'TypeCast') {
    // Only to text[] or varchar[] with no length: varchar(7)[] would cut the elements.
    const tn = body(n).typeName as Node
    if (tn.typmods !== undefined || !['text', 'varchar'].includes(lastTypeName(tn).toLowerCase())) return undefined
    const arr = arrayValues(body(n).arg, ctx)
    if (arr) return arr
    const lit = textValue(body(n).arg, ctx)
    return typeof lit === 'string' ? parseArrayLiteral(lit) : undefined
  }
  if (k === 'A_Const') {
    const lit = textValue(n, ctx)
    return typeof lit === 'string' ? parseArrayLiteral(lit) : undefined
  }
  return undefined
}

const UNIT_MICROS: Record<string, number> = { microsecond: 1, millisecond: 1e3, second: 1e6, minute: 6e7, hour: 3.6e9, day: 8.64e10, week: 6.048e11 }

/** A fixed-length interval literal ('15 minutes', '1 day') in microseconds; months and years vary, so not those. */
function intervalMicros(n: unknown, ctx: PruneContext): number | undefined {
  if (kind(n) !== 'TypeCast' || typeNameOf(body(n)) !== 'interval') return undefined
  const s = textValue(body(n).arg, ctx)
  if (typeof s !== 'string') return undefined
  // '-1 day 2 hours' is -22 hours by IntervalStyle postgres, -26 by sql_standard (the sign
  // applies to every field): a minus with more than one field prunes nothing.
  if (s.includes('-') && (s.match(/[a-z]+/gi) ?? []).length > 1) return undefined
  let total = 0
  const re = /\s*(-?\d+(?:\.\d+)?)\s*(microsecond|millisecond|second|minute|hour|day|week)s?\s*/gy
  let m: RegExpExecArray | null
  let consumed = 0
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MICROS[m[2]!]!
    consumed = re.lastIndex
  }
  return consumed === s.length && consumed > 0 ? Math.round(total) : undefined
}

/**
 * A time bound in microseconds, or undefined (no pruning). `ignoreZone`: the value is read as a
 * timestamp without time zone, whose input ignores a zone ('2026-10-06 20:00-05'::timestamp is
 * 20:00), compared with time in the session's zone (so only in a UTC session).
 */
export function timeValue(n: unknown, ctx: PruneContext, ignoreZone = false): number | undefined {
  const k = kind(n)
  if (k === 'A_Expr' && body(n).kind === 'AEXPR_OP' && ctx.utcSession) {
    // timestamptz ± interval: days are 24 hours only in a UTC session (DST elsewhere).
    const e = body(n)
    const o = ((e.name as Node[])[0]!.String as { sval: string }).sval
    const t = timeValue(e.lexpr, ctx, ignoreZone)
    const d = intervalMicros(e.rexpr, ctx)
    if (t === undefined || d === undefined || (o !== '+' && o !== '-')) return undefined
    return o === '+' ? t + d : t - d
  }
  if (k === 'ParamRef') {
    const v = ctx.params[Number(body(n).number) - 1]
    if (v && 'micros' in v) return v.micros
    if (v && 'text' in v && v.text !== null) return parseTimestampMicros(v.text, ctx.utcSession, v.instant ? false : ignoreZone || v.withoutZone === true)
    return undefined
  }
  if (k === 'TypeCast') {
    const t = typeNameOf(body(n))
    if (t !== 'timestamptz' && t !== 'timestamp' && t !== 'text') return undefined
    if (t === 'timestamp' && !ctx.utcSession) return undefined
    // A timestamptz inside is an instant again; text keeps how the text will be read.
    return timeValue(body(n).arg, ctx, t === 'timestamp' ? true : t === 'timestamptz' ? false : ignoreZone)
  }
  const s = textValue(n, ctx)
  return typeof s === 'string' ? parseTimestampMicros(s, ctx.utcSession, ignoreZone) : undefined
}
