/**
 * The planner: from a SELECT and a snapshot of the edge network to a distributed plan, cheapest
 * tier first (router, union, merge-sorted, partial-aggregate, gather). Pure: no I/O, the plan
 * is data, and the same input always gives the same plan.
 */
import { body, cast, deparseSelect, intConst, kind, refNames, resTarget, rewrite, visit, textConst, type Node } from './ast.js'
import { buildGather, pushableConjuncts, type FeedRequest } from './gather.js'
import { hasAggregates, splitAggregate } from './partial-aggregate.js'
import { chooseTargets, restrictionsOf, type Restrictions } from './prune.js'
import { columnType, dataRelations, simpleFrom, type RelationUse, type SimpleFrom } from './relations.js'
import type { Fetch, GatherPlan, Plan, PlanInput, SortKey, SortType } from './types.js'

/** now() and its kin become the statement's timestamp, so every edge reads the same instant. */
export function fixStatementTime(stmt: Node, statementTime: string, onFix: () => void = () => {}): Node {
  const ts = () => {
    onFix()
    return cast(textConst(statementTime), 'timestamptz')
  }
  return rewrite(stmt, (w) => {
    const k = kind(w)
    if (k === 'FuncCall') {
      const f = body(w)
      const names = refNamesOfFunc(f)
      const name = names[names.length - 1]
      if ((names.length === 1 || names[0] === 'pg_catalog') && !f.args && ['now', 'transaction_timestamp', 'statement_timestamp'].includes(name!)) return ts()
      return undefined
    }
    if (k === 'SQLValueFunction') {
      const f = body(w)
      if (f.typmod !== undefined && f.typmod !== -1) return undefined
      switch (f.op) {
        case 'SVFOP_CURRENT_TIMESTAMP':
          return ts()
        case 'SVFOP_CURRENT_DATE':
          return cast(ts(), 'date')
        case 'SVFOP_LOCALTIMESTAMP':
          return cast(ts(), 'timestamp')
        case 'SVFOP_CURRENT_TIME':
          return cast(ts(), 'timetz')
        case 'SVFOP_LOCALTIME':
          return cast(ts(), 'time')
      }
    }
    return undefined
  }) as Node
}

const refNamesOfFunc = (f: Node) => (f.funcname as Node[]).map((n) => ((n.String as { sval?: string } | undefined)?.sval ?? '').toLowerCase())

/** A LIMIT or OFFSET value, if known: null for none (or ALL / NULL), undefined if unknown. */
function countOf(n: unknown, input: PlanInput): number | null | undefined {
  if (n === undefined) return null
  if (kind(n) === 'A_Const') {
    const c = body(n)
    if (c.isnull) return null
    if (c.ival !== undefined) return Number((c.ival as { ival?: number }).ival ?? 0)
    return undefined
  }
  if (kind(n) === 'ParamRef') {
    const v = input.params[Number(body(n).number) - 1]
    if (v && 'text' in v) return v.text === null ? null : /^\s*\d+\s*$/.test(v.text) ? Number(v.text) : undefined
  }
  return undefined
}

function shapeIsSimple(select: Node): boolean {
  if (select.op !== 'SETOP_NONE' || select.withClause || select.windowClause || select.lockingClause || select.intoClause) return false
  let ok = true
  visit([select.targetList, select.whereClause, select.havingClause, select.sortClause, select.groupClause], (t, f) => {
    if (t === 'SubLink' || t === 'RangeSubselect' || t === 'RangeFunction' || (t === 'FuncCall' && f.over)) ok = false
  })
  return ok
}

/**
 * The SQL of a statement sent unchanged (the router tier), by the client's own tree: statements
 * come from the gateway's parse cache, which returns the same frozen tree for the same text, so a
 * repeated statement is deparsed once (deparsing was about 45 µs of a point query's ~350 µs in
 * the gateway). Pure: the SQL depends on the tree alone.
 */
const unchangedSql = new WeakMap<Node, string>()

export function plan(input: PlanInput): Plan {
  // A rewritten copy: the client's tree is never changed (rewrite shares no object with it).
  let timeFixed = false
  const select = fixStatementTime(input.select, input.statementTime, () => (timeFixed = true))
  const routerSql = () => {
    if (timeFixed) return deparseSelect(select)
    let sql = unchangedSql.get(input.select)
    if (sql === undefined) unchangedSql.set(input.select, (sql = deparseSelect(select)))
    return sql
  }
  const uses = dataRelations({ SelectStmt: select }, input.searchPath)
  const from = shapeIsSimple(select) && uses.length <= 2 ? simpleFrom(select, uses) : undefined
  const restrictions = new Map<RelationUse, Restrictions>()
  if (from) for (const t of from.tables) restrictions.set(t.use, restrictionsOf(select.whereClause, t.ref, { params: input.params, utcSession: input.utcSession }))
  const onlyEvents = uses.every((u) => u.relation === 'alerts' || u.relation === 'logs')

  // Which shards the whole statement needs: a shard is kept if any relation may match there.
  const all = chooseTargets(
    input.edges,
    onlyEvents ? uses.map((u) => ({ table: u.relation as 'alerts' | 'logs', r: restrictions.get(u) ?? null })) : [],
    input.now,
    input.synopsisMaxAgeMs,
    input.replicaTurn,
  )
  const fetchOf = (sql: string, formats: Fetch['formats'], hiddenColumns = 0): Fetch => ({
    sql,
    usesParams: input.paramCount > 0,
    targets: all.targets,
    pruned: all.pruned,
    unavailable: all.unavailable,
    formats,
    hiddenColumns,
  })
  const gather = (): GatherPlan => gatherPlan(select, uses, from, restrictions, input)

  if (!onlyEvents || uses.length === 0) return gather()
  if (all.targets.length === 1 && all.unavailable.length === 0) return { tier: 'router', fetch: fetchOf(routerSql(), 'client') }
  if (all.targets.length === 0 || !from) return gather()
  if (select.limitOption === 'LIMIT_OPTION_WITH_TIES') return gather()

  if (hasAggregates(select) || select.groupClause || select.havingClause) {
    const split = splitAggregate(select, from, input.paramCount)
    if (!split) return gather()
    return { tier: 'partial-aggregate', fetch: fetchOf(deparseSelect(split.edgeSelect), 'text'), combine: split.combine, fallback: gather() }
  }
  if (select.distinctClause) return gather()
  const limit = countOf(select.limitCount, input)
  const offset = countOf(select.limitOffset, input)
  if (limit === undefined || offset === undefined) return gather()
  const pushedLimit = limit === null ? undefined : intConst(limit + (offset ?? 0))
  const edgeBase: Node = { ...select, limitOffset: undefined, limitCount: pushedLimit, limitOption: pushedLimit ? 'LIMIT_OPTION_COUNT' : 'LIMIT_OPTION_DEFAULT' }
  if (!select.sortClause) return { tier: 'union', fetch: fetchOf(deparseSelect(edgeBase), 'client'), offset: offset ?? 0, limit }

  const keys = sortKeys(select, from)
  if (!keys) return gather()
  const edgeSelect = { ...edgeBase, targetList: [...(select.targetList as Node[]), ...keys.exprs.map((e, i) => resTarget(e, `__k${i + 1}`))] }
  return { tier: 'merge-sorted', fetch: fetchOf(deparseSelect(edgeSelect), 'client', keys.keys.length), keys: keys.keys, offset: offset ?? 0, limit }
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
    let e = sb.node as Node
    if (kind(e) === 'A_Const' && body(e).ival !== undefined) {
      const t = targets[Number((body(e).ival as { ival?: number }).ival ?? 0) - 1]
      if (!t) return undefined
      e = t.val as Node
    } else if (kind(e) === 'ColumnRef') {
      const names = refNames(body(e))
      const t = names.length === 1 ? targets.find((x) => x.name === names[0]) : undefined
      if (t) e = t.val as Node
    }
    if (kind(e) !== 'ColumnRef') return undefined
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

function gatherPlan(select: Node, uses: readonly RelationUse[], from: SimpleFrom | undefined, restrictions: Map<RelationUse, Restrictions>, input: PlanInput): GatherPlan {
  const requests: FeedRequest[] = uses.map((use) => {
    if (use.relation === 'fedgres.edges') return { use, pushed: [], fetch: undefined }
    const r = restrictions.get(use) ?? null
    const t = chooseTargets(input.edges, use.relation === 'fedgres.sources' || use.relation === 'fedgres.fired_alerts' ? [] : [{ table: use.relation, r }], input.now, input.synopsisMaxAgeMs, input.replicaTurn)
    return { use, pushed: pushableConjuncts(select, from, use), fetch: t }
  })
  return buildGather({ SelectStmt: select }, requests, input.paramCount, input.maxGatherRows)
}
