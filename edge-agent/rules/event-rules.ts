/**
 * The rules applied to each event as it is received: tagging rules (which add tags to the
 * event's `tags` column) and the event matchers of alert rules (whose hits the agent hands to
 * its alert engine). Compiled once at start into a RuleIndex per table (tagging rules first, then
 * matchers); evaluating an event reads each tested column once and allocates nothing.
 */
import { z } from 'zod'
import { eventColumns, type EventTable } from '../../schema/index.js'
import { compileConditions, matchSchema, tablesFor, type CompiledCondition, type FieldGetter, type MatchSpec } from './match-spec.js'
import { RuleIndex } from './rule-index.js'

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
  readonly tags: (readonly string[])[]
  readonly matcherNames: string[]
  readonly conditions: (readonly CompiledCondition[])[]
  index?: RuleIndex
}

function applicableTables(where: string, tables: readonly EventTable[] | undefined, match: MatchSpec): readonly EventTable[] {
  if (tables) return tables
  const found = tablesFor(match)
  if (found.length === 0) compileConditions(where, match, 'logs') // throws, naming the column
  return found
}

export class EventRules {
  readonly #nodeTags: readonly string[]
  readonly #byTable: Record<EventTable, Compiled>
  /** Results per set of matched tagging rules, so a repeated set reuses its array. */
  readonly #tagCache: Record<EventTable, Map<number | string, readonly string[]>> = { alerts: new Map(), logs: new Map() }
  /** Names of the alert matchers the last evaluated event matched. */
  readonly hits: string[] = []
  #source: FieldGetter | undefined
  #lastTable: EventTable | undefined

  /** Throws an Error naming the rule and key when a rule is invalid. */
  constructor(nodeTags: readonly string[], tagRules: readonly TagRule[], matchers: readonly EventMatcher[] = [], where = { tags: 'tagging.rules', alerts: 'alerts.rules' }) {
    this.#nodeTags = nodeTags
    const empty = (): Compiled => ({ tags: [], matcherNames: [], conditions: [] })
    const byTable: Record<EventTable, Compiled> = { alerts: empty(), logs: empty() }
    const tagConds: Record<EventTable, (readonly CompiledCondition[])[]> = { alerts: [], logs: [] }
    tagRules.forEach((rule, i) => {
      const at = `${where.tags}[${i}]${rule.name ? ` (${rule.name})` : ''}.match`
      for (const t of applicableTables(at, rule.tables, rule.match)) {
        tagConds[t].push(compileConditions(at, rule.match, t))
        byTable[t].tags.push(rule.tags)
      }
    })
    const matcherConds: Record<EventTable, (readonly CompiledCondition[])[]> = { alerts: [], logs: [] }
    matchers.forEach((m, i) => {
      const at = `${where.alerts}[${i}] (${m.name})`
      for (const t of applicableTables(at, m.tables, m.match)) {
        matcherConds[t].push(compileConditions(at, m.match, t))
        byTable[t].matcherNames.push(m.name)
      }
    })
    for (const t of ['alerts', 'logs'] as const) {
      const all = [...tagConds[t], ...matcherConds[t]]
      if (all.length > 0) byTable[t].index = new RuleIndex(all)
    }
    this.#byTable = byTable
  }

  get nodeTags(): readonly string[] {
    return this.#nodeTags
  }

  /** True when some rule applies to `table` (else evaluate() just returns the node tags). */
  active(table: EventTable): boolean {
    return this.#byTable[table].index !== undefined
  }

  /**
   * The last evaluated event's columns (NULLs left out), for an alert's details. Valid only
   * until the next event is decoded: call it right after evaluate().
   */
  lastEvent(): Record<string, string> {
    const out: Record<string, string> = {}
    const table = this.#lastTable
    const get = this.#source
    if (!table || !get) return out
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
    const index = c.index
    if (!index) return this.#nodeTags
    this.#source = get
    this.#lastTable = table
    index.load(get)
    const nTags = c.tags.length
    for (let m = 0; m < c.matcherNames.length; m++) if (index.holds(nTags + m)) this.hits.push(c.matcherNames[m]!)
    // The matched tagging rules as a key: a bitmask while there are at most 31, else their indexes.
    let mask = 0
    let key = ''
    for (let i = 0; i < nTags; i++) {
      if (!index.holds(i)) continue
      if (i < 31) mask |= 1 << i
      else key += `${i},`
    }
    if (mask === 0 && key === '') return this.#nodeTags
    const cacheKey = key === '' ? mask : `${mask}:${key}`
    const cache = this.#tagCache[table]
    let tags = cache.get(cacheKey)
    if (!tags) {
      const beyond = new Set(key.split(',').filter(Boolean).map(Number))
      const all = new Set(this.#nodeTags)
      for (let i = 0; i < nTags; i++) if (i < 31 ? mask & (1 << i) : beyond.has(i)) for (const t of c.tags[i]!) all.add(t)
      tags = Object.freeze([...all])
      if (cache.size < 4096) cache.set(cacheKey, tags)
    }
    return tags
  }
}
