/**
 * The partial-aggregate tier: edges group and aggregate what can be combined (count, sum, min,
 * max, avg as sum and count, bool_and/bool_or), and the gateway combines the partial rows with
 * the client's GROUP BY, HAVING, ORDER BY and LIMIT applied after. Anything else (DISTINCT or
 * ordered aggregates, statistics, percentiles, grouping sets) is left to the gather tier.
 */
import { body, cast, clone, colRef, containsSubLink, exprKey, func, funcName, intConst, kind, lastTypeName, op, outputName, refNames, resTarget, rewrite, visit, type Node } from './ast.js'
import type { SimpleFrom } from './relations.js'
import { eventColumns } from '../../schema/columns.js'
import type { CombineSpec, PartialKind } from './types.js'

const DECOMPOSABLE = new Set(['count', 'sum', 'min', 'max', 'avg', 'bool_and', 'bool_or', 'every'])

/**
 * Names of PostgreSQL 18's aggregate functions (pg_proc, prokind 'a', in pg_catalog), to tell an
 * aggregate call from an ordinary one. The oracle test checks the list against the catalog.
 */
export const AGGREGATES = new Set([
  'any_value', 'array_agg', 'avg', 'bit_and', 'bit_or', 'bit_xor', 'bool_and', 'bool_or', 'corr', 'count', 'covar_pop', 'covar_samp', 'cume_dist',
  'dense_rank', 'every', 'json_agg', 'json_agg_strict', 'json_object_agg', 'json_object_agg_strict', 'json_object_agg_unique',
  'json_object_agg_unique_strict', 'jsonb_agg', 'jsonb_agg_strict', 'jsonb_object_agg', 'jsonb_object_agg_strict', 'jsonb_object_agg_unique',
  'jsonb_object_agg_unique_strict', 'max', 'min', 'mode', 'percent_rank', 'percentile_cont', 'percentile_disc', 'range_agg', 'range_intersect_agg',
  'rank', 'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2', 'regr_slope', 'regr_sxx', 'regr_sxy', 'regr_syy', 'stddev',
  'stddev_pop', 'stddev_samp', 'string_agg', 'sum', 'var_pop', 'var_samp', 'variance', 'xmlagg',
])

/** SQL/JSON aggregates (JSON_ARRAYAGG, JSON_OBJECTAGG) have nodes of their own, not FuncCall. */
const JSON_AGGREGATES = new Set(['JsonArrayAgg', 'JsonObjectAgg'])

export function isAggregateCall(f: Node): boolean {
  if (f.over) return false
  return AGGREGATES.has(funcName(f)) || Boolean(f.agg_within_group || f.agg_star || f.agg_distinct || f.agg_order || f.agg_filter)
}

export function hasAggregates(select: Node): boolean {
  let found = false
  for (const part of [select.targetList, select.havingClause, select.sortClause]) {
    visit(part, (t, f) => {
      if (t === 'SubLink') return false // a subquery's aggregates are its own
      if ((t === 'FuncCall' && isAggregateCall(f)) || JSON_AGGREGATES.has(t)) found = true
    })
  }
  return found
}

/** Aggregates whose value does not change when a row is repeated. */
const DUPLICATE_BLIND = new Set(['min', 'max', 'bool_and', 'bool_or', 'every'])

/**
 * Whether the statement's answer is the same over the distinct rows as over all of them: one
 * SELECT over tables and joins, grouped or DISTINCT, whose aggregates are all DISTINCT ones or
 * min, max, bool_and, bool_or and every, with no window or subquery. The gather tier then reads
 * each fetched row once, not once per event (count(DISTINCT pid) over 30,000 distinct rows, not
 * 100,000 events).
 */
export function duplicatesIrrelevant(select: Node): boolean {
  if (select.op !== 'SETOP_NONE' || select.withClause || select.windowClause) return false
  const plainFrom = (items: unknown): boolean =>
    ((items as Node[] | undefined) ?? []).every((i) => kind(i) === 'RangeVar' || (kind(i) === 'JoinExpr' && plainFrom([body(i).larg, body(i).rarg])))
  if (!plainFrom(select.fromClause)) return false
  let ok = !!select.groupClause || !!select.distinctClause || hasAggregates(select)
  visit(select, (t, f) => {
    if (t === 'SubLink' || t === 'RangeSubselect' || t === 'RangeFunction' || t === 'RangeTableSample' || JSON_AGGREGATES.has(t)) ok = false
    if (t !== 'FuncCall') return
    if (f.over) ok = false
    else if (isAggregateCall(f) && !f.agg_distinct && !(DUPLICATE_BLIND.has(funcName(f)) && !f.agg_within_group)) ok = false
  })
  return ok
}

const EVENT_COLUMNS = new Set([...eventColumns.alerts, ...eventColumns.logs].map((c) => c.name))

/**
 * `SELECT DISTINCT a, b ...` of plain columns as `... GROUP BY a, b`, which it is (NULLs one
 * group, the same equality), so the edges group their rows and the gateway combines the groups
 * (Grafana's and Superset's lists of values). Only columns: an expression might be a set-returning
 * function, which GROUP BY refuses. Undefined when it does not apply.
 */
export function distinctAsGroups(select: Node): Node | undefined {
  const d = select.distinctClause as Node[] | undefined
  if (!d || d.some((x) => Object.keys(x).length > 0) || select.groupClause || select.havingClause || select.windowClause || select.op !== 'SETOP_NONE') return undefined
  const vals = ((select.targetList as Node[] | undefined) ?? []).map((t) => body(t).val as Node)
  // A column of the event tables by name (not `t`, a whole row, or `*`).
  const column = (v: Node) => kind(v) === 'ColumnRef' && EVENT_COLUMNS.has(refNames(body(v)).at(-1)!)
  if (vals.length === 0 || !vals.every(column) || hasAggregates(select)) return undefined
  return { ...select, distinctClause: undefined, groupClause: vals.map((v) => structuredClone(v)) }
}

interface Partial {
  readonly kind: PartialKind
  readonly expr: Node
}

export interface PartialAggregateShape {
  /** The edges' statement body: g1..gN, then p1..pM. */
  readonly edgeSelect: Node
  readonly combine: CombineSpec
}

/**
 * Splits a grouped statement, or returns undefined when it cannot be combined exactly here
 * (the gather tier takes it then).
 */
export function splitAggregate(select: Node, from: SimpleFrom, paramCount: number): PartialAggregateShape | undefined {
  if (select.groupingSets || select.windowClause || select.withClause) return undefined
  // A COLLATE would be lost on the partials, which the gateway combines as text in its own collation.
  let collated = false
  visit([select.targetList, select.havingClause, select.sortClause, select.groupClause], (t) => {
    if (t === 'CollateClause') collated = true
  })
  if (collated) return undefined
  const targets = (select.targetList as Node[]).map((t) => body(t))
  const tableColumns = new Set(from.tables.flatMap((t) => eventColumns[t.table].map((c) => c.name)))
  // GROUP BY items: an ordinal or an output alias means that target's expression (an input column wins over an alias, as in PostgreSQL).
  const groups: Node[] = []
  /** The combine's reference to a grouping expression, which the edges group by (once). */
  const keyRef = (e: Node): Node => {
    const n = normalize(e, from)
    let i = groups.findIndex((g) => exprKey(g) === exprKey(n))
    if (i < 0) i = groups.push(n) - 1
    return colRef('__p', `g${i + 1}`)
  }
  const combineGroups: Node[] = []
  for (const g of (select.groupClause as Node[] | undefined) ?? []) {
    if (kind(g) === 'GroupingSet') {
      const sets = groupingSet(body(g), keyRef, tableColumns)
      if (!sets) return undefined
      combineGroups.push(sets)
      continue
    }
    let e: Node = g
    if (kind(g) === 'A_Const' && body(g).ival !== undefined) {
      const i = Number((body(g).ival as { ival?: number }).ival ?? 0)
      const t = targets[i - 1]
      if (!t) return undefined
      e = t.val as Node
    } else if (kind(g) === 'ColumnRef') {
      const names = refNames(body(g))
      if (names.length === 1 && !tableColumns.has(names[0]!)) {
        const t = targets.find((x) => x.name === names[0])
        if (t) e = t.val as Node
      }
    }
    // A constant key ('x' AS k ... GROUP BY k) would read as a position, or be refused, on the edges.
    if (kind(e) === 'A_Const') return undefined
    combineGroups.push(keyRef(e))
  }
  const groupKeys = groups.map(exprKey)
  const partials: Partial[] = []
  const partialIndex = new Map<string, number>()
  const addPartial = (p: Partial): Node => {
    const key = p.kind + exprKey(p.expr)
    let i = partialIndex.get(key)
    if (i === undefined) {
      i = partials.length
      partials.push(p)
      partialIndex.set(key, i)
    }
    return colRef('__p', `p${i + 1}`)
  }
  let ok = true
  const combineExpr = (agg: Node): Node | undefined => {
    const name = funcName(agg)
    if (!DECOMPOSABLE.has(name) || agg.agg_distinct || agg.agg_order || agg.agg_within_group || agg.agg_variadic) return undefined
    const args = (agg.args as Node[] | undefined) ?? []
    if (args.some((a) => containsSubLink(a))) return undefined
    const partialCall = (fn: string): Node => ({ FuncCall: { ...clone(agg), funcname: [{ String: { sval: fn } }], location: undefined } })
    switch (name) {
      case 'count':
        return { CoalesceExpr: { args: [cast(func('sum', [addPartial({ kind: 'count', expr: partialCall('count') })]), 'int8'), intConst(0)] } }
      case 'sum':
        return func('sum', [addPartial({ kind: 'sum', expr: partialCall('sum') })])
      case 'min':
      case 'max':
        return func(name, [addPartial({ kind: name, expr: partialCall(name) })])
      case 'bool_and':
      case 'every':
        return func('bool_and', [addPartial({ kind: 'bool_and', expr: partialCall('bool_and') })])
      case 'bool_or':
        return func('bool_or', [addPartial({ kind: 'bool_or', expr: partialCall('bool_or') })])
      case 'avg': {
        // avg(float4) adds in float8, where sum(float4) adds in float4: only arguments that
        // cannot be float4 are split (columns hold no float4; a cast names its type).
        if (!notFloat4(args[0])) return undefined
        const s = addPartial({ kind: 'sum', expr: partialCall('sum') })
        const c = addPartial({ kind: 'count', expr: partialCall('count') })
        // PostgreSQL's avg final function divides the sum by the count as numeric (float8 for
        // float inputs, which the implicit cast picks); NULL sums (no non-NULL input) give NULL.
        return op('/', func('sum', [s]), cast(func('sum', [c]), 'numeric'))
      }
    }
    return undefined
  }
  const rewriteExpr = (e: unknown): unknown =>
    rewrite(normalize(e as Node, from), (w) => {
      if (!ok) return w
      const key = exprKey(w)
      const gi = groupKeys.indexOf(key)
      if (gi >= 0) return colRef('__p', `g${gi + 1}`)
      const k = kind(w)
      if (k === 'SubLink' || JSON_AGGREGATES.has(k!)) {
        ok = false
        return w
      }
      if (k === 'FuncCall' && isAggregateCall(body(w))) {
        const c = combineExpr(body(w))
        if (!c) ok = false
        return c ?? w
      }
      if (k === 'ColumnRef') {
        ok = false // a column that is not a GROUP BY expression: let the gather tier run it
        return w
      }
      return undefined
    })
  const combineSelect: Node = {
    targetList: targets.map((t) => resTarget(rewriteExpr(t.val) as Node, t.name as string | undefined)),
    fromClause: [{ RangeVar: { relname: '__p', inh: true, relpersistence: 'p' } }],
    ...(combineGroups.length ? { groupClause: combineGroups, ...(select.groupDistinct ? { groupDistinct: true } : {}) } : {}),
    ...(select.havingClause ? { havingClause: rewriteExpr(select.havingClause) } : {}),
    ...(select.sortClause ? { sortClause: (select.sortClause as Node[]).map((s) => sortItem(s, targets, rewriteExpr) ?? ((ok = false), s)) } : {}),
    ...(select.distinctClause ? { distinctClause: select.distinctClause } : {}),
    ...(select.limitCount ? { limitCount: select.limitCount } : {}),
    ...(select.limitOffset ? { limitOffset: select.limitOffset } : {}),
    limitOption: select.limitOption ?? 'LIMIT_OPTION_DEFAULT',
    op: 'SETOP_NONE',
  }
  if (!ok || (select.distinctClause && (select.distinctClause as unknown[]).some((d) => Object.keys(d as Node).length > 0))) return undefined
  const edgeSelect: Node = {
    targetList: [...groups.map((g, i) => resTarget(clone(g), `g${i + 1}`)), ...partials.map((p, i) => resTarget(p.expr, `p${i + 1}`))],
    fromClause: select.fromClause,
    ...(select.whereClause ? { whereClause: select.whereClause } : {}),
    ...(groups.length ? { groupClause: groups.map((g) => clone(g)) } : {}),
    limitOption: 'LIMIT_OPTION_DEFAULT',
    op: 'SETOP_NONE',
  }
  return {
    edgeSelect,
    combine: {
      select: combineSelect,
      partialNames: [...groups.map((_, i) => `g${i + 1}`), ...partials.map((_, i) => `p${i + 1}`)],
      partialKinds: [...groups.map(() => 'group' as const), ...partials.map((p) => p.kind)],
      paramCount,
    },
  }
}

/**
 * A ROLLUP, CUBE or GROUPING SETS over the partial groups: the edges group by every expression in
 * it, and the combine rolls their groups up by the same sets, which for these aggregates is
 * rolling up the rows (the empty set over no rows still gives its one row). Undefined for what
 * this does not read: a position or output name in a set, a row value, a set nested in a set.
 */
function groupingSet(gs: Node, keyRef: (e: Node) => Node, tableColumns: ReadonlySet<string>): Node | undefined {
  if (gs.kind === 'GROUPING_SET_EMPTY') return { GroupingSet: { kind: gs.kind } }
  const leaf = (e: Node): Node | undefined => {
    const names = kind(e) === 'ColumnRef' ? refNames(body(e)) : []
    if (kind(e) === 'A_Const' || kind(e) === 'GroupingSet' || kind(e) === 'RowExpr' || (names.length === 1 && !tableColumns.has(names[0]!))) return undefined
    return keyRef(e)
  }
  const content: Node[] = []
  for (const item of (gs.content as Node[] | undefined) ?? []) {
    if (kind(item) === 'GroupingSet' && body(item).kind === 'GROUPING_SET_EMPTY') content.push(item)
    else if (kind(item) === 'RowExpr' && body(item).row_format === 'COERCE_IMPLICIT_CAST') {
      // (a, b) in a set: a sublist, not a row value.
      const args = (body(item).args as Node[]).map(leaf)
      if (args.some((a) => !a)) return undefined
      content.push({ RowExpr: { ...body(item), args } })
    } else {
      const ref = leaf(item)
      if (!ref) return undefined
      content.push(ref)
    }
  }
  return { GroupingSet: { kind: gs.kind, content } }
}

/**
 * ORDER BY items: ordinals and output aliases stay (they name the combined targets); a bare name
 * that is a target's implicit name (pid::text goes by pid) means that target, before any input
 * column, as in PostgreSQL. Undefined when the name is ambiguous.
 */
function sortItem(s: Node, targets: Node[], rewriteExpr: (e: unknown) => unknown): Node | undefined {
  const sb = body(s)
  const n = sb.node as Node
  if (kind(n) === 'A_Const') return s
  if (kind(n) === 'ColumnRef') {
    const names = refNames(body(n))
    const named = names.length === 1 ? targets.filter((t) => outputName(t) === names[0]) : []
    if (named.length > 1) return undefined
    if (named.length === 1) return typeof named[0]!.name === 'string' ? s : { SortBy: { ...sb, node: rewriteExpr(named[0]!.val) } }
  }
  return { SortBy: { ...sb, node: rewriteExpr(n) } }
}

/** Drops the qualifier of a column when the FROM has one table, so `a.x` and `x` compare equal. */
function normalize(e: Node, from: SimpleFrom): Node {
  if (from.tables.length !== 1) return e
  const q = from.tables[0]!.ref.qualifiers
  return rewrite(e, (w) => {
    if (kind(w) !== 'ColumnRef') return undefined
    const names = refNames(body(w))
    // `a.*` stays: a bare `*` is no column (count(a.*) counts rows).
    if (names.length === 2 && q.includes(names[0]!) && names[1] !== '*') return colRef(names[1]!)
    return undefined
  }) as Node
}

/**
 * An avg argument whose type cannot be float4: a column (none is), a constant, an operator over
 * such operands (no built-in operator makes float4 of other types), or a cast to another type.
 */
function notFloat4(arg: unknown): boolean {
  if (!arg) return false
  const k = kind(arg)
  if (k === 'ColumnRef' || k === 'A_Const') return true
  if (k === 'A_Expr') return body(arg).kind === 'AEXPR_OP' && (body(arg).lexpr === undefined || notFloat4(body(arg).lexpr)) && notFloat4(body(arg).rexpr)
  if (k !== 'TypeCast') return false
  return !['float4', 'real'].includes(lastTypeName(body(arg).typeName as Node).toLowerCase())
}
