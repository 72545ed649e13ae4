/**
 * The rules applied to each event as it is received: tagging rules (which add tags to the
 * event's `tags` column) and the event matchers of alert rules (whose hits the agent hands to
 * its alert engine). Compiled once at start; evaluating an event reads each tested column at most
 * once and allocates nothing when no rule matches.
 */
import { z } from 'zod'
import { eventColumns, type EventTable } from '../../schema/index.js'
import { compileMatch, matchSchema, tablesFor, type CompiledMatch, type FieldGetter, type MatchSpec } from './match-spec.js'

export const TAG_PATTERN = /^[A-Za-z0-9_.:-]+$/
const tagSchema = z.string().regex(TAG_PATTERN, 'tags use letters, digits and _ . : - only')
const tablesSchema = z.array(z.enum(['alerts', 'logs'])).min(1).optional()

export const tagRuleSchema = z.strictObject({
  name: z.string().optional(),
  /** Tables the rule applies to; default: every table that has all the columns it tests. */
  tables: tablesSchema,
  match: matchSchema,
  tags: z.array(tagSchema).min(1, 'a tagging rule adds at least one tag'),
})
export type TagRule = z.infer<typeof tagRuleSchema>

export interface EventMatcher {
  readonly name: string
  readonly tables?: readonly EventTable[]
  readonly match: MatchSpec
}

interface Compiled {
  readonly tagRules: { readonly match: CompiledMatch; readonly tags: readonly string[] }[]
  readonly matchers: { readonly match: CompiledMatch; readonly name: string }[]
}

function applicableTables(where: string, tables: readonly EventTable[] | undefined, match: MatchSpec): readonly EventTable[] {
  if (tables) return tables
  const found = tablesFor(match)
  if (found.length === 0) compileMatch(where, match, 'logs') // throws, naming the column
  return found
}

export class EventRules {
  readonly #nodeTags: readonly string[]
  readonly #byTable: Record<EventTable, Compiled> = { alerts: { tagRules: [], matchers: [] }, logs: { tagRules: [], matchers: [] } }
  /** Results per set of matched tagging rules, so a repeated set reuses its array. */
  readonly #tagCache = new Map<string, readonly string[]>()
  readonly #memo: (string | null)[] = []
  readonly #seen: Uint32Array
  #generation = 0
  /** Names of the alert matchers the last evaluated event matched. */
  readonly hits: string[] = []
  #last: { table: EventTable; get: FieldGetter } | undefined

  /** Throws an Error naming the rule and key when a rule is invalid. */
  constructor(nodeTags: readonly string[], tagRules: readonly TagRule[], matchers: readonly EventMatcher[] = [], where = { tags: 'tagging.rules', alerts: 'alerts.rules' }) {
    this.#nodeTags = nodeTags
    tagRules.forEach((rule, i) => {
      const at = `${where.tags}[${i}]${rule.name ? ` (${rule.name})` : ''}.match`
      for (const t of applicableTables(at, rule.tables, rule.match)) this.#byTable[t].tagRules.push({ match: compileMatch(at, rule.match, t), tags: rule.tags })
    })
    matchers.forEach((m, i) => {
      const at = `${where.alerts}[${i}] (${m.name})`
      for (const t of applicableTables(at, m.tables, m.match)) this.#byTable[t].matchers.push({ match: compileMatch(at, m.match, t), name: m.name })
    })
    this.#seen = new Uint32Array(Math.max(eventColumns.alerts.length, eventColumns.logs.length))
  }

  get nodeTags(): readonly string[] {
    return this.#nodeTags
  }

  /** True when some rule applies to `table` (else evaluate() just returns the node tags). */
  active(table: EventTable): boolean {
    const c = this.#byTable[table]
    return c.tagRules.length > 0 || c.matchers.length > 0
  }

  /**
   * The last evaluated event's columns (NULLs left out), for an alert's details. Valid only
   * until the next event is decoded: call it right after evaluate().
   */
  lastEvent(): Record<string, string> {
    const out: Record<string, string> = {}
    if (!this.#last) return out
    const { table, get } = this.#last
    eventColumns[table].forEach((c, i) => {
      if (c.name === 'tags' || c.name === 'event_data' || c.name === 'policy_tags') return
      const v = get(i)
      if (v !== null) out[c.name] = v
    })
    return out
  }

  /**
   * Evaluates the rules of `table` on one event; returns its tags (node tags, then rule tags in
   * rule order, no repeats) and leaves the matched alert matchers in `hits`.
   */
  evaluate(table: EventTable, get: FieldGetter): readonly string[] {
    this.hits.length = 0
    const c = this.#byTable[table]
    if (c.tagRules.length === 0 && c.matchers.length === 0) return this.#nodeTags
    const gen = ++this.#generation
    if (gen === 0xffffffff) {
      this.#seen.fill(0)
      this.#generation = 1
    }
    const memo = this.#memo
    const seen = this.#seen
    const cached: FieldGetter = (i) => {
      if (seen[i] !== this.#generation) {
        seen[i] = this.#generation
        memo[i] = get(i)
      }
      return memo[i]!
    }
    this.#last = { table, get: cached }
    let key = ''
    for (let i = 0; i < c.tagRules.length; i++) if (c.tagRules[i]!.match.test(cached)) key += `${i},`
    for (const m of c.matchers) if (m.match.test(cached)) this.hits.push(m.name)
    if (key === '') return this.#nodeTags
    const hitKey = `${table}:${key}`
    let tags = this.#tagCache.get(hitKey)
    if (!tags) {
      const all = new Set(this.#nodeTags)
      for (const i of key.slice(0, -1).split(',')) for (const t of c.tagRules[Number(i)]!.tags) all.add(t)
      tags = Object.freeze([...all])
      if (this.#tagCache.size < 4096) this.#tagCache.set(hitKey, tags)
    }
    return tags
  }
}
