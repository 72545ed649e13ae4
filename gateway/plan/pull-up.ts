/**
 * Pulling up a subquery in FROM, as PostgreSQL's planner does (pull_up_subqueries): BI tools
 * wrap the table in a projection, `SELECT host_name, count(*) FROM (SELECT * FROM alerts WHERE
 * time > ...) AS virtual_table GROUP BY 1` (Superset's virtual datasets, Tableau's custom SQL,
 * Power BI's folded steps). Read as written, the statement runs in the gather tier and ships the
 * subquery's rows; merged into one SELECT over the table, it runs as a router, union, merge or
 * partial aggregate, and its edges are pruned by the subquery's WHERE.
 *
 * Only what cannot change the answer is pulled up: the statement's one FROM item is the subquery
 * (not LATERAL), the statement has no subquery or WITH of its own, and the subquery is a plain
 * projection and filter of one table (no aggregate, grouping, DISTINCT, window, ORDER BY, LIMIT
 * or set operation) whose outputs are columns or expressions of functions that are immutable or
 * stable and return one value, so an expression repeated where each output is used has the value
 * it had once. Any reference this cannot place leaves the statement as written.
 */
import { andOf, body, clone, conjuncts, containsSubLink, funcName, kind, outputName, refNames, rewrite, visit, type Node } from './ast.js'
import { inlineSingleCte } from './inline-cte.js'
import { hasAggregates, isAggregateCall } from './partial-aggregate.js'
import { dataRelations, relationColumns } from './relations.js'

/**
 * Functions an output may call: immutable, or stable (one value for the same arguments within a
 * statement: date_trunc and to_char read TimeZone), one value per call, never an aggregate.
 */
const SCALAR_FUNCTIONS = new Set([
  'date_trunc', 'date_part', 'extract', 'to_char', 'timezone', 'to_timestamp', 'concat', 'regexp_replace', 'translate',
  'lower', 'upper', 'initcap', 'length', 'char_length', 'character_length', 'octet_length', 'substr', 'substring', 'left', 'right',
  'split_part', 'replace', 'btrim', 'ltrim', 'rtrim', 'lpad', 'rpad', 'strpos', 'position', 'md5', 'abs', 'round', 'trunc', 'floor',
  'ceil', 'ceiling', 'sign', 'mod', 'date_bin', 'cardinality', 'array_length', 'array_to_string', 'jsonb_extract_path_text',
  'jsonb_typeof', 'concat_ws', 'starts_with', 'reverse', 'repeat',
])

/** Expression kinds an output may be built of (SubLinks, SRFs and volatile calls are not among them). */
const PLAIN_KINDS = new Set(['ColumnRef', 'A_Const', 'TypeCast', 'A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'MinMaxExpr', 'A_Indirection', 'A_Indices', 'String', 'TypeName', 'Integer', 'Float', 'Boolean', 'A_ArrayExpr', 'CollateClause', 'A_Star'])

/** Whether an output may be repeated where it is used; with `aggregates`, it may call aggregates (one value per group). */
function plainOutput(expr: unknown, aggregates = false): boolean {
  // A bare string or NULL constant is of type unknown, which a subquery's output makes text.
  if (kind(expr) === 'A_Const' && (body(expr).sval !== undefined || body(expr).isnull)) return false
  let ok = true
  visit(expr, (t, f) => {
    if (t === 'FuncCall' && aggregates && isAggregateCall(f) && !f.func_variadic) return true
    if (t === 'FuncCall') {
      const schema = refNames({ fields: f.funcname }).slice(0, -1)
      if (!SCALAR_FUNCTIONS.has(funcName(f)) || f.over || f.agg_filter || f.agg_order || f.agg_star || f.agg_distinct || f.func_variadic) ok = false
      else if (schema.length > 0 && schema.join('.') !== 'pg_catalog') ok = false
      return ok
    }
    if (!PLAIN_KINDS.has(t)) ok = false
    return ok
  })
  return ok
}

const SUBQUERY_CLAUSES = ['distinctClause', 'groupClause', 'havingClause', 'windowClause', 'sortClause', 'limitCount', 'limitOffset', 'lockingClause', 'withClause', 'intoClause', 'valuesLists'] as const

/** The subquery's outputs by name, or undefined if it is not a plain projection and filter of one table. */
function outputsOf(sub: Node, searchPath: readonly string[], colnames: readonly string[]): Map<string, Node | null> | undefined {
  if (sub.op !== 'SETOP_NONE' || SUBQUERY_CLAUSES.some((c) => sub[c] !== undefined) || (sub.groupDistinct ?? false)) return undefined
  const from = (sub.fromClause as Node[] | undefined) ?? []
  if (from.length !== 1 || kind(from[0]) !== 'RangeVar') return undefined
  const rv = body(from[0])
  const ref = ((rv.alias as Node | undefined)?.aliasname as string | undefined) ?? String(rv.relname)
  if ((rv.alias as Node | undefined)?.colnames) return undefined
  const outputs: [string, Node][] = []
  for (const t of (sub.targetList as Node[] | undefined) ?? []) {
    const rt = body(t)
    const val = rt.val as Node
    const names = kind(val) === 'ColumnRef' ? refNames(body(val)) : []
    if (names.at(-1) === '*') {
      // * or t.*: the table's columns, when it is one the planner knows.
      if (names.length > 2 || (names.length === 2 && names[0] !== ref)) return undefined
      const use = dataRelations({ SelectStmt: sub }, searchPath).find((u) => u.rangeVar === rv)
      if (!use) return undefined
      for (const c of relationColumns(use.relation)) outputs.push([c.name, { ColumnRef: { fields: [{ String: { sval: ref } }, { String: { sval: c.name } }] } }])
      continue
    }
    if (!plainOutput(val)) return undefined
    outputs.push([outputName(rt), val])
  }
  return byName(outputs, colnames)
}

/**
 * Outputs by name, renamed by the subquery's column alias list; a name given twice is ambiguous
 * (null), so a reference to it is left to PostgreSQL's error. Undefined if the list is too long.
 */
function byName(outputs: [string, Node][], colnames: readonly string[]): Map<string, Node | null> | undefined {
  if (colnames.length > outputs.length) return undefined
  colnames.forEach((n, i) => (outputs[i]![0] = n))
  const named = new Map<string, Node | null>()
  for (const [n, e] of outputs) named.set(n, named.has(n) ? null : e)
  return named
}

interface Grouped {
  readonly outputs: Map<string, Node | null>
  /** The subquery's GROUP BY with positions and output names replaced by their expressions. */
  readonly groupClause: unknown
}

/**
 * An aggregate subquery over one table, plain enough that a statement which only filters,
 * orders and limits its groups can become one grouped statement (the filter its HAVING).
 */
function groupedOutputsOf(sub: Node, searchPath: readonly string[], colnames: readonly string[]): Grouped | undefined {
  const refused = ['distinctClause', 'windowClause', 'sortClause', 'limitCount', 'limitOffset', 'lockingClause', 'withClause', 'intoClause', 'valuesLists'] as const
  if (sub.op !== 'SETOP_NONE' || refused.some((c) => sub[c] !== undefined) || sub.groupDistinct || !(sub.groupClause || hasAggregates(sub))) return undefined
  const from = (sub.fromClause as Node[] | undefined) ?? []
  if (from.length !== 1 || kind(from[0]) !== 'RangeVar' || (body(from[0]).alias as Node | undefined)?.colnames) return undefined
  const use = dataRelations({ SelectStmt: sub }, searchPath).find((u) => u.rangeVar === body(from[0]))
  if (!use) return undefined
  const columns = new Set(relationColumns(use.relation).map((c) => c.name))
  const outputs: [string, Node][] = []
  for (const t of (sub.targetList as Node[] | undefined) ?? []) {
    const rt = body(t)
    const star = kind(rt.val) === 'ColumnRef' && refNames(body(rt.val)).at(-1) === '*'
    if (star || !plainOutput(rt.val, true)) return undefined
    outputs.push([outputName(rt), rt.val as Node])
  }
  // GROUP BY reads positions and output names against the subquery's own outputs: spelled out before they change.
  let ok = true
  const groupClause = ((sub.groupClause as Node[] | undefined) ?? []).map((item) => {
    if (kind(item) === 'GroupingSet') ok = false
    if (kind(item) === 'A_Const' && body(item).ival !== undefined) {
      const e = outputs[Number((body(item).ival as { ival?: number }).ival ?? 0) - 1]?.[1]
      if (!e || kind(e) === 'A_Const') ok = false
      return e ? clone(e) : item
    }
    const names = kind(item) === 'ColumnRef' ? refNames(body(item)) : []
    if (names.length !== 1 || columns.has(names[0]!)) return item
    const named = outputs.filter(([n]) => n === names[0])
    if (named.length !== 1) ok = false
    return named.length === 1 ? clone(named[0]![1]) : item
  })
  const named = ok ? byName(outputs, colnames) : undefined
  return named && { outputs: named, groupClause: sub.groupClause === undefined ? undefined : groupClause }
}

/**
 * The statement with its FROM subquery merged into it (and that subquery's own first), or
 * undefined when nothing was pulled up.
 */
export function pullUpSubqueries(select: Node, searchPath: readonly string[]): Node | undefined {
  // A WITH query read once in FROM is such a subquery (inline-cte.ts); inlined only if it then merges.
  const inlined = inlineSingleCte(select)
  return pullUp(inlined ?? select, searchPath)
}

function pullUp(select: Node, searchPath: readonly string[]): Node | undefined {
  const from = (select.fromClause as Node[] | undefined) ?? []
  if (select.op !== 'SETOP_NONE' || select.withClause || select.intoClause || from.length !== 1 || kind(from[0]) !== 'RangeSubselect') return undefined
  const rs = body(from[0])
  if (rs.lateral || kind(rs.subquery) !== 'SelectStmt') return undefined
  const innerOwn = body(rs.subquery)
  const inner = pullUpSubqueries(innerOwn, searchPath) ?? innerOwn
  const withInner = inner === innerOwn ? undefined : { ...select, fromClause: [{ RangeSubselect: { ...rs, subquery: { SelectStmt: inner } } }] }
  // A subquery in the statement could name the alias, which this does not follow.
  const clauses = [select.targetList, select.whereClause, select.groupClause, select.havingClause, select.sortClause, select.windowClause, select.distinctClause, select.limitCount, select.limitOffset]
  if (containsSubLink(clauses)) return withInner
  const alias = (rs.alias as Node | undefined)?.aliasname as string | undefined
  const colnames = (((rs.alias as Node | undefined)?.colnames as Node[] | undefined) ?? []).map((c) => String(body(c).sval))
  const outputs = outputsOf(inner, searchPath, colnames)
  if (outputs) return merge(select, inner, alias, outputs) ?? withInner
  // Power BI's visual: its groups, filtered (`WHERE NOT "_"."a0" IS NULL`) and capped.
  const grouped = groupedOutputsOf(inner, searchPath, colnames)
  // Its windows run over the groups either way: after the HAVING its WHERE becomes.
  const plainOuter = !hasAggregates(select) && !select.groupClause && !select.havingClause && !select.distinctClause
  if (grouped && plainOuter) return merge(select, inner, alias, grouped.outputs, grouped) ?? withInner
  return withInner
}

/**
 * The statement and its subquery as one; with `grouped`, the statement's WHERE filters the
 * subquery's groups, and its windows run over them.
 */
function merge(select: Node, inner: Node, alias: string | undefined, outputs: Map<string, Node | null>, grouped?: Grouped): Node | undefined {
  let placed = true
  const column = (names: string[]): Node | undefined => {
    const name = names.length === 1 ? names[0]! : names.length === 2 && names[0] === alias ? names[1]! : undefined
    const e = name === undefined || name === '*' ? undefined : outputs.get(name)
    if (!e) placed = false
    return e ?? undefined
  }
  const substitute = (n: unknown): unknown =>
    rewrite(n, (w) => {
      if (kind(w) !== 'ColumnRef') return undefined
      const e = column(refNames(body(w)))
      // A copy for each use: later passes tell the nodes of a statement apart by identity.
      return e ? clone(e) : w
    })

  // Output names stay what they were: each output is named as PostgreSQL named it.
  const outputNames: string[] = []
  const targets: Node[] = []
  for (const t of (select.targetList as Node[] | undefined) ?? []) {
    const rt = body(t)
    const names = kind(rt.val) === 'ColumnRef' ? refNames(body(rt.val)) : []
    if (names.at(-1) === '*') {
      if (names.length > 2 || (names.length === 2 && names[0] !== alias)) return undefined
      for (const [n, e] of outputs) {
        if (!e) return undefined
        targets.push({ ResTarget: { val: clone(e), name: n } })
        outputNames.push(n)
      }
      continue
    }
    const name = outputName(rt)
    outputNames.push(name)
    targets.push({ ResTarget: { ...rt, val: substitute(rt.val), name } })
  }
  // ORDER BY and DISTINCT ON read an output's name first; GROUP BY a column of FROM first, and
  // an output's name only if no such column: by its position once FROM is the table.
  const byOutput = (items: unknown, groupBy: boolean): unknown =>
    ((items as Node[] | undefined) ?? []).map((item) => {
      const e = kind(item) === 'SortBy' ? body(item).node : item
      const names = kind(e) === 'ColumnRef' ? refNames(body(e)) : []
      if (names.length === 1 && (groupBy ? !outputs.has(names[0]!) : outputNames.includes(names[0]!))) {
        if (!groupBy) return item
        const at = outputNames.indexOf(names[0]!)
        if (at < 0 || outputNames.lastIndexOf(names[0]!) !== at) placed = false
        return { A_Const: { ival: { ival: at + 1 } } }
      }
      return substitute(item)
    })
  if (grouped) {
    const out: Node = {
      ...select,
      targetList: targets,
      fromClause: inner.fromClause,
      whereClause: inner.whereClause,
      groupClause: grouped.groupClause,
      havingClause: andOf([...conjuncts(inner.havingClause), ...conjuncts(substitute(select.whereClause))]),
      sortClause: select.sortClause && byOutput(select.sortClause, false),
      windowClause: substitute(select.windowClause),
    }
    return placed ? out : undefined
  }
  const out: Node = {
    ...select,
    targetList: targets,
    fromClause: inner.fromClause,
    whereClause: andOf([...conjuncts(inner.whereClause), ...conjuncts(substitute(select.whereClause))]),
    groupClause: select.groupClause && byOutput(select.groupClause, true),
    havingClause: substitute(select.havingClause),
    sortClause: select.sortClause && byOutput(select.sortClause, false),
    distinctClause: select.distinctClause && ((select.distinctClause as Node[]).length === 0 || kind((select.distinctClause as Node[])[0]) === undefined ? select.distinctClause : byOutput(select.distinctClause, false)),
    windowClause: substitute(select.windowClause),
  }
  return placed ? out : undefined
}
