/**
 * The event matcher shared by tagging rules and alert rules: a map from column name to a
 * condition, all of which must hold. A condition is a value (equality), `{eq}`, `{in: [...]}`,
 * `{regex}` (JavaScript syntax, tested against the whole text unless anchored otherwise) or
 * `{cidr}` (an address in the field lies in a block). Values are compared as the row stores
 * them: text as is, integers in decimal, NULL as `null`.
 *
 *   match: { namespace_name: { in: [payments, billing] }, action: Block, resource: { cidr: 10.0.0.0/8 } }
 */
import { z } from 'zod'
import { eventColumns, type EventTable } from '../../schema/index.js'
import { parseCidr, textHasAddressIn } from './cidr.js'

const scalar = z.union([z.string(), z.number(), z.null()])

export const conditionSchema = z.union([
  scalar,
  z.strictObject({ eq: scalar }),
  z.strictObject({ in: z.array(scalar).min(1, 'in: needs at least one value') }),
  z.strictObject({ regex: z.string().min(1) }),
  z.strictObject({ cidr: z.union([z.string(), z.array(z.string()).min(1)]) }),
])

export const matchSchema = z.record(z.string(), conditionSchema).refine((m) => Object.keys(m).length > 0, 'match: name at least one column')

export type MatchSpec = z.infer<typeof matchSchema>
type Condition = z.infer<typeof conditionSchema>

/** Reads column `index` of the current event (as stored; null for NULL). */
export type FieldGetter = (index: number) => string | null

/** Columns a rule may test: the event's own scalar fields (not time, edge_id, tags or JSON). */
const MATCHABLE = new Set(['text', 'integer', 'bigint'])
export const matchableColumns = (table: EventTable) => eventColumns[table].filter((c) => MATCHABLE.has(c.type) && c.name !== 'edge_id').map((c) => c.name)

const asText = (v: string | number | null) => (v === null ? null : String(v))

function compileCondition(where: string, cond: Condition): (v: string | null) => boolean {
  if (cond === null || typeof cond !== 'object') {
    const want = asText(cond)
    return (v) => v === want
  }
  if ('eq' in cond) {
    const want = asText(cond.eq)
    return (v) => v === want
  }
  if ('in' in cond) {
    const set = new Set(cond.in.map(asText))
    return (v) => set.has(v)
  }
  if ('regex' in cond) {
    let re: RegExp
    try {
      re = new RegExp(cond.regex)
    } catch (e) {
      throw new Error(`${where}: bad regex: ${(e as Error).message}`)
    }
    return (v) => v !== null && re.test(v)
  }
  const blocks = (Array.isArray(cond.cidr) ? cond.cidr : [cond.cidr]).map((c) => {
    try {
      return parseCidr(c)
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`)
    }
  })
  return (v) => v !== null && textHasAddressIn(v, blocks)
}

/** The tables whose columns include every column the match names. */
export function tablesFor(match: MatchSpec): EventTable[] {
  return (['alerts', 'logs'] as const).filter((t) => Object.keys(match).every((c) => matchableColumns(t).includes(c)))
}

/** One condition of a match: the column it reads and its test of the column's value. */
export interface CompiledCondition {
  readonly index: number
  readonly test: (v: string | null) => boolean
}

/** The conditions of `match` for `table`; throws an Error naming `where` and the bad key. */
export function compileConditions(where: string, match: MatchSpec, table: EventTable): CompiledCondition[] {
  const cols = eventColumns[table]
  const tests: CompiledCondition[] = []
  for (const [name, cond] of Object.entries(match)) {
    const index = cols.findIndex((c) => c.name === name)
    if (index < 0 || !matchableColumns(table).includes(name)) {
      const hint = matchableColumns(table).filter((c) => c.includes(name) || name.includes(c))
      throw new Error(`${where}.${name}: ${table} has no column '${name}' a rule can test${hint.length ? ` (did you mean ${hint.join(' or ')}?)` : ''}`)
    }
    tests.push({ index, test: compileCondition(`${where}.${name}`, cond) })
  }
  return tests
}
