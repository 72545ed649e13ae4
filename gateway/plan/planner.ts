/**
 * The planner: from a SELECT and a snapshot of the edge network to a distributed plan, cheapest
 * tier first (router, union, merge-sorted, partial-aggregate, gather). Pure: no I/O, the plan
 * is data, and the same input always gives the same plan.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { body, deparseSelect, exprKey, intConst, kind, outputName, refNames, resTarget, visit, type Node } from './ast.js'
import { buildGather, pushableConjuncts, type FeedRequest } from './gather.js'
import { distinctAsGroups, hasAggregates, splitAggregate } from './partial-aggregate.js'
import { chooseTargets, restrictionsOf, type Restrictions } from './prune.js'
import { fixIdentity, readsShadowOnly } from './session-values.js'
import { fixStatementTime } from './statement-time.js'
import { pullUpSubqueries } from './pull-up.js'
import { timeBound } from './time-bound.js'
import { colocatedSubLink, columnType, dataRelations, ownWhere, withoutColumnAliases, scanPartitions, simpleFrom, tableQualifiedColumns, type RelationUse, type SimpleFrom } from './relations.js'
import type { Fetch, GatherPlan, Plan, PlanInput, SortKey, SortType } from './types.js'

// Kept importable from here, where it was first defined (gateway/session/clock.ts imports it so).
export { fixStatementTime } from './statement-time.js'

/** A LIMIT or OFFSET value, if known: null for none (or ALL / NULL), undefined if unknown. */
function countOf(n: unknown, input: PlanInput): number | null | undefined {
  if (n === undefined) return null
  if (kind(n) === 'A_Const') {
    const c = body(n)
    if (c.isnull) return null
    if (c.ival !== undefined) return Number((c.ival as { ival?: number }).ival ?? 0)
    // Past int4 a literal count is a numeric constant: an int8 one is still a count.
    const f = (c.fval as { fval?: string } | undefined)?.fval
    return f !== undefined && /^\d+$/.test(f) ? Number(f) : undefined
  }
  if (kind(n) === 'ParamRef') {
    const v = input.params[Number(body(n).number) - 1]
    if (v && 'text' in v) return v.text === null ? null : /^\s*-?\d+\s*$/.test(v.text) ? Number(v.text) : undefined
  }
  return undefined
}

function shapeIsSimple(select: Node): boolean {
  // No output columns (SELECT FROM t ...) is left to the gather tier.
  if (select.op !== 'SETOP_NONE' || select.withClause || select.windowClause || select.lockingClause || select.intoClause || !select.targetList) return false
  let ok = true
  // A window over the groups of an aggregate is computed with the combine, in the gateway
  // (partial-aggregate.ts): `count(*) * 100.0 / sum(count(*)) OVER ()`. Over rows, it needs them all.
  const grouped = hasAggregates(select) || !!select.groupClause || !!select.havingClause
  // A subquery anywhere, LIMIT and OFFSET included, reads tables the edges' statements cannot
  // see; one in the output or WHERE may be co-located (colocatedSubLinks, once FROM is known).
  const check = (clauses: unknown, opts: { windows: boolean; subLinks: boolean }) =>
    visit(clauses, (t, f) => {
      if (t === 'SubLink' && opts.subLinks) return false
      if (t === 'SubLink' || t === 'RangeSubselect' || t === 'RangeFunction' || (t === 'FuncCall' && f.over && !opts.windows)) ok = false
    })
  check(select.targetList, { windows: grouped, subLinks: true })
  check(select.whereClause, { windows: false, subLinks: true })
  check(select.sortClause, { windows: grouped, subLinks: false })
  check([select.havingClause, select.groupClause, select.limitCount, select.limitOffset], { windows: false, subLinks: false })
  return ok
}

/** Whether every subquery in the output and WHERE reads only the outer row's host (relations.ts). */
function colocatedSubLinks(select: Node, from: SimpleFrom, uses: readonly RelationUse[]): boolean {
  let ok = true
  visit([select.targetList, select.whereClause], (t, f) => {
    if (t !== 'SubLink') return undefined
    if (!colocatedSubLink(f, from, uses)) ok = false
    return false
  })
  return ok
}

/** What the planner reads from a statement's tree alone (and the search path), before any edge. */
interface Shape {
  readonly select: Node
  readonly uses: RelationUse[]
  readonly from: SimpleFrom | undefined
  /**
   * A clock function was fixed to the statement's time, or an identity function to the session's
   * value: the shape holds for this statement only.
   */
  readonly fixed: boolean
  /** The statement calls a function only the gateway's engine may evaluate (session-values.ts). */
  readonly shadowOnly: boolean
  /** SQL deparsed for this shape, by tier and pushed-down counts. */
  readonly sql: Map<string, string>
  /** Plans built from the tree alone (aggregate splits, gather plans), by tier and parameters. */
  readonly built: Map<string, unknown>
  /** The restrictions when the statement has no parameters, for a UTC session or not. */
  readonly restrictions: [Map<RelationUse, Restrictions> | undefined, Map<RelationUse, Restrictions> | undefined]
}

/**
 * Shapes by the client's own tree: statements come from the gateway's parse cache, which returns
 * the same deeply frozen tree for the same text, so a repeated statement is analysed and deparsed
 * once (deparsing alone was about 45 µs of a point query's ~350 µs in the gateway). A frozen tree
 * is never changed, so a shape may share it. A statement that reads the clock is analysed anew
 * each time, with its own statement time.
 */
const shapes = new WeakMap<Node, { path: string; shape: Shape }>()

function shapeOf(input: PlanInput): Shape {
  const frozen = Object.isFrozen(input.select)
  const path = input.searchPath.join(',')
  const memo = frozen ? shapes.get(input.select) : undefined
  if (memo?.path === path) return memo.shape
  let fixed = false
  const timed = fixStatementTime(input.select, input, () => (fixed = true))
  // A rewritten copy unless nothing was fixed in a frozen tree: the client's tree is never changed.
  let select = fixed || !frozen ? timed : input.select
  if (input.session) select = fixIdentity(select, input.session, () => (fixed = true))
  const renamed = withoutColumnAliases(select, input.searchPath)
  if (renamed) {
    select = renamed
    fixed = true
  }
  select = pullUpSubqueries(select, input.searchPath) ?? select
  select = distinctAsGroups(select) ?? select
  select = tableQualifiedColumns(scanPartitions(select, input.searchPath))
  const uses = dataRelations({ SelectStmt: select }, input.searchPath)
  const simple = shapeIsSimple(select) ? simpleFrom(select, uses) : undefined
  const from = simple && colocatedSubLinks(select, simple, uses) ? simple : undefined
  const shape: Shape = { select, uses, from, fixed, shadowOnly: readsShadowOnly(select), sql: new Map(), built: new Map(), restrictions: [undefined, undefined] }
  if (frozen && !fixed) shapes.set(input.select, { path, shape })
  return shape
}

/** The SQL of `tree` for the edges, deparsed once per shape under `key`. */
function sqlOf(shape: Shape, key: string, tree: () => Node): string {
  let sql = shape.sql.get(key)
  if (sql === undefined) {
    sql = deparseSelect(tree())
    if (!shape.fixed) shape.sql.set(key, sql)
  }
  return sql
}

/** What `build` makes of the shape alone, built once per shape under `key`. */
function builtOf<T>(shape: Shape, key: string, build: () => T): T {
  if (shape.built.has(key)) return shape.built.get(key) as T
  const out = build()
  if (!shape.fixed) shape.built.set(key, out)
  return out
}

function restrictionsFor(shape: Shape, input: PlanInput): Map<RelationUse, Restrictions> {
  const slot = input.utcSession ? 1 : 0
  const kept = input.paramCount === 0 ? shape.restrictions[slot] : undefined
  if (kept) return kept
  const restrictions = new Map<RelationUse, Restrictions>()
  const ctx = { params: input.params, utcSession: input.utcSession }
  if (shape.from) for (const t of shape.from.tables) restrictions.set(t.use, restrictionsOf(shape.select.whereClause, t.ref, ctx))
  // The other relations (all of them in the gather tier; a co-located subquery's otherwise), each
  // pruned by the WHERE of the SELECT that reads it alone. Its unqualified columns are the
  // table's: every pruning column is in both event tables.
  for (const use of shape.uses) {
    if (restrictions.has(use)) continue
    const own = use.relation === 'alerts' || use.relation === 'logs' ? ownWhere({ SelectStmt: shape.select }, use) : undefined
    if (own) restrictions.set(use, restrictionsOf(own.where, own.ref, ctx))
  }
  if (input.paramCount === 0 && !shape.fixed) shape.restrictions[slot] = restrictions
  return restrictions
}

export function plan(input: PlanInput): Plan {
  const shape = shapeOf(input)
  const { select, uses, from } = shape
  const restrictions = restrictionsFor(shape, input)
  const onlyEvents = uses.every((u) => u.relation === 'alerts' || u.relation === 'logs')

  // Which shards the whole statement needs: a shard is kept if any relation may match there. A
  // co-located subquery reads only its outer row's shard: the outer tables decide.
  const planned = from ? from.tables.map((t) => t.use) : uses
  const all = chooseTargets(
    input.edges,
    onlyEvents ? planned.map((u) => ({ table: u.relation as 'alerts' | 'logs', r: restrictions.get(u) ?? null })) : [],
    input.now,
    input.synopsisMaxAgeMs,
    input.replicaTurn,
  )
  const fetchOf = (sql: string, hiddenColumns = 0): Fetch => ({
    sql,
    usesParams: input.paramCount > 0,
    targets: all.targets,
    pruned: all.pruned,
    unavailable: all.unavailable,
    hiddenColumns,
  })
  const gather = (): GatherPlan => gatherPlan(shape, restrictions, input)

  if (!onlyEvents || uses.length === 0 || shape.shadowOnly) return gather()
  if (all.targets.length === 1 && all.unavailable.length === 0) return { tier: 'router', fetch: fetchOf(sqlOf(shape, 'router', () => select)) }
  if (all.targets.length === 0 || !from) return gather()
  if (select.limitOption === 'LIMIT_OPTION_WITH_TIES') return gather()

  if (builtOf(shape, 'aggregates', () => hasAggregates(select) || !!select.groupClause || !!select.havingClause)) {
    const split = builtOf(shape, `split:${input.paramCount}`, () => splitAggregate(select, from, input.paramCount))
    if (!split) return gather()
    return { tier: 'partial-aggregate', fetch: fetchOf(sqlOf(shape, `partial-aggregate:${input.paramCount}`, () => split.edgeSelect)), combine: split.combine, fallback: gather() }
  }
  // DISTINCT ON (first of each group, in ORDER BY order) merges; a plain DISTINCT is gathered.
  const distinctOn = select.distinctClause ? distinctOnExprs(select) : undefined
  if (select.distinctClause && (!distinctOn || !select.sortClause)) return gather()
  const limit = countOf(select.limitCount, input)
  const offset = countOf(select.limitOffset, input)
  if (limit === undefined || offset === undefined) return gather()
  // PostgreSQL's Limit node checks OFFSET, then LIMIT, before it reads a row.
  if (offset !== null && offset < 0) throw new PgError(SqlState.InvalidRowCountInResultOffsetClause, 'OFFSET must not be negative')
  if (limit !== null && limit < 0) throw new PgError(SqlState.InvalidRowCountInLimitClause, 'LIMIT must not be negative')
  // Past 2^53 a count is no longer exact here: such a LIMIT is no limit to any real table, so
  // none is pushed (OFFSET stays, and skips every row, as the exact one would).
  const pushed = limit === null || !Number.isSafeInteger(limit + (offset ?? 0)) ? null : limit + (offset ?? 0)
  const edgeBase = (): Node => ({ ...select, limitOffset: undefined, limitCount: pushed === null ? undefined : intConst(pushed), limitOption: pushed === null ? 'LIMIT_OPTION_DEFAULT' : 'LIMIT_OPTION_COUNT' })
  if (!select.sortClause) return { tier: 'union', fetch: fetchOf(sqlOf(shape, `union:${pushed}`, edgeBase)), offset: offset ?? 0, limit }

  const keys = builtOf(shape, 'keys', () => sortKeys(select, from))
  if (!keys || (distinctOn && !leadingKeys(distinctOn, keys.exprs))) return gather()
  const edgeSelect = () => ({ ...edgeBase(), targetList: [...(select.targetList as Node[]), ...keys.exprs.map((e, i) => resTarget(e, `__k${i + 1}`))] })
  const fetch = fetchOf(sqlOf(shape, `merge-sorted:${pushed}`, edgeSelect), keys.keys.length)
  // ORDER BY time first, one table, a LIMIT: the shards with the newest data may settle the answer.
  const first = from.tables.length === 1 && keys.keys[0]!.type === 'timestamptz' && refNames(body(keys.exprs[0]!)).at(-1) === 'time' ? from.tables[0]! : undefined
  const bound =
    first && pushed !== null && !distinctOn
      ? timeBound({ targets: all.targets, table: first.table, desc: keys.keys[0]!.desc, rows: pushed, restrictions: restrictions.get(first.use) ?? null, edges: input.edges, now: input.now, maxAgeMs: input.synopsisMaxAgeMs, turn: input.replicaTurn ?? 0 })
      : undefined
  return { tier: 'merge-sorted', fetch, keys: keys.keys, offset: offset ?? 0, limit, ...(bound ? { timeBound: bound } : {}), ...(distinctOn ? { distinctOn: distinctOn.length } : {}) }
}

/**
 * A sort or DISTINCT ON item as the expression it names: a position or a bare output name is
 * the output's expression (a bare name is an output's first, its alias or its implicit name:
 * pid::text is pid); undefined if ambiguous.
 */
function itemExpr(item: Node, targets: readonly Node[]): Node | undefined {
  if (kind(item) === 'A_Const' && body(item).ival !== undefined) return targets[Number((body(item).ival as { ival?: number }).ival ?? 0) - 1]?.val as Node | undefined
  if (kind(item) !== 'ColumnRef') return item
  const names = refNames(body(item))
  const named = names.length === 1 ? targets.filter((x) => outputName(x) === names[0]) : []
  if (named.length > 1) return undefined // ambiguous, or the same expression twice: PostgreSQL decides
  return named.length === 1 ? (named[0]!.val as Node) : item
}

/** The expressions of DISTINCT ON, or undefined for a plain DISTINCT. */
function distinctOnExprs(select: Node): Node[] | undefined {
  const items = select.distinctClause as Node[]
  if (items.every((d) => Object.keys(d).length === 0)) return undefined
  const targets = (select.targetList as Node[]).map((t) => body(t))
  const exprs = items.map((d) => itemExpr(d, targets))
  return exprs.every((e) => e !== undefined) ? (exprs as Node[]) : undefined
}

/**
 * Whether the DISTINCT ON expressions are the first ORDER BY keys (PostgreSQL requires it): then
 * a group's rows are adjacent in the merge, and the first of them is the group's row.
 */
function leadingKeys(on: readonly Node[], sortExprs: readonly Node[]): boolean {
  const lead = new Set(sortExprs.slice(0, on.length).map(exprKey))
  return sortExprs.length >= on.length && lead.size === on.length && on.every((e) => lead.has(exprKey(e)))
}

const SORT_TYPES: Record<string, SortType> = { integer: 'int', bigint: 'int', timestamptz: 'timestamptz', text: 'text' }

/** ORDER BY keys the gateway can merge on: columns of int, bigint, timestamptz or text. */
function sortKeys(select: Node, from: SimpleFrom): { keys: SortKey[]; exprs: Node[] } | undefined {
  const targets = (select.targetList as Node[]).map((t) => body(t))
  const keys: SortKey[] = []
  const exprs: Node[] = []
  for (const s of select.sortClause as Node[]) {
    const sb = body(s)
    if (sb.useOp) return undefined
    const e = itemExpr(sb.node as Node, targets)
    if (!e || kind(e) !== 'ColumnRef') return undefined
    const type = columnType(body(e), from)
    const st = type ? SORT_TYPES[type] : undefined
    if (!st) return undefined
    const desc = sb.sortby_dir === 'SORTBY_DESC'
    const nullsFirst = sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc
    keys.push({ column: exprs.length, type: st, desc, nullsFirst })
    exprs.push(e)
  }
  return { keys, exprs }
}

function gatherPlan(shape: Shape, restrictions: Map<RelationUse, Restrictions>, input: PlanInput): GatherPlan {
  const { select, uses, from } = shape
  const targets = uses.map((use) => {
    if (use.relation === 'fedgres.edges') return undefined
    const r = restrictions.get(use) ?? null
    return chooseTargets(input.edges, use.relation === 'fedgres.sources' || use.relation === 'fedgres.fired_alerts' ? [] : [{ table: use.relation, r }], input.now, input.synopsisMaxAgeMs, input.replicaTurn)
  })
  // The feeds' and the local statement's SQL depend on the tree alone: built once, then given
  // this statement's targets.
  const built = builtOf(shape, `gather:${input.paramCount}:${input.maxGatherRows}`, () => {
    const requests: FeedRequest[] = uses.map((use, i) => ({ use, pushed: targets[i] ? pushableConjuncts(select, from, use) : [], fetch: targets[i] }))
    return buildGather({ SelectStmt: select }, requests, input.paramCount, input.maxGatherRows)
  })
  return { ...built, feeds: built.feeds.map((f, i) => (f.fetch ? { ...f, fetch: { ...f.fetch, ...targets[i]! } } : f)) }
}
