/**
 * The clock's special input words: PostgreSQL reads `'now'::timestamptz` as the transaction's
 * start (what now() gives), and 'today', 'tomorrow' and 'yesterday' as midnights of the
 * transaction's date in the session's TimeZone. Sent as they are, every edge read them by its own
 * clock, each another instant (`'now'::timestamptz = now()` was false, and `GROUP BY 'now'::
 * timestamptz - now()` gave a group per edge). A constant of such a word, cast to a date or time
 * type, becomes the same value computed from the transaction's time.
 */
import { body, cast, kind, type Node } from './ast.js'

/** The types each word is read as, by the last part of the type's name. */
const NOW_TYPES = new Set(['timestamptz', 'timestamp', 'date', 'time', 'timetz'])
const DAY_TYPES = new Set(['timestamptz', 'timestamp', 'date'])
const DAY_OFFSET: Readonly<Record<string, number>> = { today: 0, tomorrow: 1, yesterday: -1 }

/** The word of a `'word'::type` cast, and its type's name, if it is one of them. */
function clockWord(tc: Node): string | undefined {
  const arg = tc.arg as Node | undefined
  if (kind(arg) !== 'A_Const') return undefined
  const text = ((body(arg).sval as { sval?: string } | undefined)?.sval ?? '').trim().toLowerCase()
  const tn = tc.typeName as Node
  if (tn.arrayBounds || tn.setof || tn.pct_type) return undefined
  const names = ((tn.names as Node[] | undefined) ?? []).map((n) => (n.String as { sval?: string } | undefined)?.sval ?? '')
  if (names.length === 0 || names.length > 2 || (names.length === 2 && names[0] !== 'pg_catalog')) return undefined
  const type = names[names.length - 1]!
  if (text === 'now' && NOW_TYPES.has(type)) return text
  if (text in DAY_OFFSET && DAY_TYPES.has(type)) return text
  return undefined
}

/**
 * The replacement for a TypeCast node body `tc`, given the transaction's time as a timestamptz
 * node, or undefined when it is not a cast of a clock word.
 */
export function clockWordValue(tc: Node, transactionTime: () => Node): Node | undefined {
  const word = clockWord(tc)
  if (word === undefined) return undefined
  let value = transactionTime()
  if (word !== 'now') {
    // The transaction's date in the session's TimeZone, then the day before or after.
    value = cast(value, 'date')
    const offset = DAY_OFFSET[word]!
    if (offset !== 0) value = { A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: '+' } }], lexpr: value, rexpr: { A_Const: { ival: { ival: offset } } } } }
  }
  // Cast to the type as written, its typmod kept (`'now'::timestamp(0)`).
  return { TypeCast: { arg: value, typeName: tc.typeName } }
}
