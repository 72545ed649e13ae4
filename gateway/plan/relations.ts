/**
 * The data relations a statement reads, and the shape of its FROM clause: a single table, a
 * co-located join (alerts with logs on host_name or container_id: a host lives on one shard),
 * or something else (which only the gather tier runs).
 */
import { eventColumns, type EventTable } from '../../schema/columns.js'
import { systemViews } from '../../schema/system-views.js'
import { parseSync } from 'libpg-query'
import { relationRangeVars } from '../../common/pg-ast.js'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { quoteIdent } from '../../common/sql-quote.js'
import { body, conjuncts, kind, refNames, rewrite, visit, type Node } from './ast.js'
import type { RelationRef } from './prune.js'

export type DataRelation = 'alerts' | 'logs' | 'fedgres.sources' | 'fedgres.fired_alerts' | 'fedgres.edges'

const FEDGRES_VIEWS = new Set(['edges', 'sources', 'fired_alerts'])

export interface RelationUse {
  readonly relation: DataRelation
  /** The RangeVar body, as found in the tree (identity used to replace it). */
  readonly rangeVar: Node
  readonly alias: string
}

/** The columns of a relation, in order, with SQL type names. */
export function relationColumns(rel: DataRelation): { name: string; type: string }[] {
  if (rel === 'alerts' || rel === 'logs') return eventColumns[rel].map((c) => ({ name: c.name, type: c.type }))
  const view = systemViews[rel.slice('fedgres.'.length) as keyof typeof systemViews]
  return view.map((c) => ({ name: c.name, type: c.type }))
}


/**
 * A data relation given column aliases (`FROM alerts a(t, e, ...)`) becomes a subquery that
 * renames its columns, `(SELECT "time" AS "t", ... FROM public.alerts) AS a`: the planner and the
 * edges know columns by their own names (pruning read a renamed column as another: 0 rows
 * against 874). The statement then runs in the gather tier. Undefined when no alias list.
 */
export function withoutColumnAliases(select: Node, searchPath: readonly string[]): Node | undefined {
  const replacement = new Map<Node, Node>()
  const sampled = new Set<Node>()
  visit(select, (t, f) => {
    if (t === 'RangeTableSample' && kind(f.relation) === 'RangeVar') sampled.add(body(f.relation))
  })
  for (const use of dataRelations({ SelectStmt: select }, searchPath)) {
    const alias = use.rangeVar.alias as Node | undefined
    const names = ((alias?.colnames as Node[] | undefined) ?? []).map((c) => String((c.String as { sval: string }).sval))
    if (names.length === 0) continue
    // A subquery has no TABLESAMPLE, and its whole row is a record, not the table's row type.
    const refused = sampled.has(use.rangeVar) ? 'TABLESAMPLE of a table given column aliases' : readsWholeRow(select, use.alias) ? `a whole-row reference to "${use.alias}", a table given column aliases` : undefined
    if (refused) throw new PgError(SqlState.FeatureNotSupported, `${refused} is not supported by Fedgres`, { hint: 'Name the columns in the select list instead (time AS t, ...).' })
    const table = use.relation === 'alerts' || use.relation === 'logs' ? `public.${use.relation}` : use.relation
    const targets = relationColumns(use.relation).map((c, i) => (i < names.length ? `${quoteIdent(c.name)} AS ${quoteIdent(names[i]!)}` : quoteIdent(c.name)))
    const parsed = parseSync(`SELECT ${targets.join(', ')} FROM ${use.rangeVar.inh === false ? 'ONLY ' : ''}${table}`) as { stmts: { stmt: Node }[] }
    replacement.set(use.rangeVar, { RangeSubselect: { subquery: parsed.stmts[0]!.stmt, alias: { aliasname: alias!.aliasname ?? use.alias } } })
  }
  if (replacement.size === 0) return undefined
  return rewrite(select, (w) => (kind(w) === 'RangeVar' ? replacement.get(body(w)) : undefined)) as Node
}

/** Whether the statement names `alias` as a value: its whole row (`a`, `to_jsonb(a)`), not `a.col` or `a.*`. */
function readsWholeRow(select: Node, alias: string): boolean {
  let found = false
  visit(select, (t, f) => {
    if (t !== 'ColumnRef' || found) return
    const n = refNames(f)
    if (n.length === 1 && n[0] === alias) found = true
  })
  return found
}

/** Every RangeVar that names a data relation (a CTE in scope hides a table, as in PostgreSQL). */
export function dataRelations(stmt: unknown, searchPath: readonly string[]): RelationUse[] {
  const out: RelationUse[] = []
  for (const f of relationRangeVars(stmt)) {
    const rel = resolve(f, searchPath)
    if (rel) out.push({ relation: rel, rangeVar: f, alias: ((f.alias as Node | undefined)?.aliasname as string | undefined) ?? String(f.relname) })
  }
  return out
}

/**
 * The statement with `ONLY` dropped from its event tables. The client's catalog shows them as
 * plain tables, where ONLY changes nothing, but on an edge they are partitioned by day: ONLY
 * there would read the empty parent. Returns `stmt` itself when no scan says ONLY.
 */
export function scanPartitions(stmt: Node, searchPath: readonly string[]): Node {
  const only = new Set(relationRangeVars(stmt).filter((f) => f.inh !== true && (resolve(f, searchPath) === 'alerts' || resolve(f, searchPath) === 'logs')))
  if (only.size === 0) return stmt
  return rewrite(stmt, (w) => (kind(w) === 'RangeVar' && only.has(body(w)) ? { RangeVar: { ...body(w), inh: true } } : undefined)) as Node
}

/**
 * The statement with schema-qualified column names of data relations (`public.alerts.host_name`,
 * as Metabase writes them) qualified by the table alone (`alerts.host_name`). PostgreSQL takes
 * both for a FROM item without an alias; the statements the gateway writes give each table an
 * alias, under which only the second is valid. Returns `stmt` itself when there are none.
 */
export function tableQualifiedColumns(stmt: Node): Node {
  const longName = (f: Node) => {
    const n = refNames(f)
    return n.length === 3 && ((n[0] === 'public' && (n[1] === 'alerts' || n[1] === 'logs')) || (n[0] === 'fedgres' && FEDGRES_VIEWS.has(n[1]!)))
  }
  let any = false
  visit(stmt, (t, f) => {
    if (t === 'ColumnRef' && longName(f)) any = true
  })
  if (!any) return stmt
  return rewrite(stmt, (w) => (kind(w) === 'ColumnRef' && longName(body(w)) ? { ColumnRef: { ...body(w), fields: (body(w).fields as Node[]).slice(1) } } : undefined)) as Node
}

/** The data relation a RangeVar names (one that names no CTE in scope: relationRangeVars). */
function resolve(f: Node, searchPath: readonly string[]): DataRelation | undefined {
  const schema = f.schemaname as string | undefined
  const name = String(f.relname)
  if (schema === 'fedgres' && FEDGRES_VIEWS.has(name)) return `fedgres.${name}` as DataRelation
  if (schema === 'public' && (name === 'alerts' || name === 'logs')) return name
  if (schema !== undefined) return undefined
  for (const s of searchPath) {
    if (s === 'public' && (name === 'alerts' || name === 'logs')) return name
    if (s === 'fedgres' && FEDGRES_VIEWS.has(name)) return `fedgres.${name}` as DataRelation
  }
  return undefined
}

export interface SimpleFrom {
  /** One or two event tables, each with the names its columns may be qualified by. */
  readonly tables: readonly { readonly table: EventTable; readonly ref: RelationRef; readonly use: RelationUse }[]
}

const COLOCATED_KEYS = new Set(['host_name', 'container_id'])

/**
 * The FROM clause when it is one event table, or an inner join of two event tables on
 * host_name or container_id (in ON or WHERE). Undefined otherwise.
 */
export function simpleFrom(select: Node, uses: readonly RelationUse[]): SimpleFrom | undefined {
  const from = (select.fromClause as Node[] | undefined) ?? []
  const useOf = (rv: unknown) => (kind(rv) === 'RangeVar' ? uses.find((u) => u.rangeVar === body(rv)) : undefined)
  const eventUse = (rv: unknown) => {
    const u = useOf(rv)
    return u && (u.relation === 'alerts' || u.relation === 'logs') ? u : undefined
  }
  if (from.length === 1 && kind(from[0]) === 'RangeVar') {
    const u = eventUse(from[0])
    if (!u) return undefined
    return { tables: [{ table: u.relation as EventTable, ref: { qualifiers: [u.alias], unqualified: true }, use: u }] }
  }
  let pair: [RelationUse, RelationUse] | undefined
  let quals: Node[] = []
  if (from.length === 1 && kind(from[0]) === 'JoinExpr') {
    const j = body(from[0])
    if (j.jointype !== 'JOIN_INNER' || j.isNatural) return undefined
    const l = eventUse(j.larg)
    const r = eventUse(j.rarg)
    if (!l || !r) return undefined
    pair = [l, r]
    quals = conjuncts(j.quals)
    for (const u of (j.usingClause as Node[] | undefined) ?? []) {
      const name = (u.String as { sval: string }).sval
      if (COLOCATED_KEYS.has(name)) quals.push({ colocatedUsing: name } as Node)
    }
  } else if (from.length === 2) {
    const l = eventUse(from[0])
    const r = eventUse(from[1])
    if (!l || !r) return undefined
    pair = [l, r]
  } else return undefined
  if (pair[0].alias === pair[1].alias) return undefined
  quals = [...quals, ...conjuncts(select.whereClause)]
  const colocated = quals.some((q) => {
    if ('colocatedUsing' in q) return true
    if (kind(q) !== 'A_Expr' || body(q).kind !== 'AEXPR_OP') return false
    const e = body(q)
    if ((e.name as Node[])[0]!.String && ((e.name as Node[])[0]!.String as { sval: string }).sval !== '=') return false
    if (kind(e.lexpr) !== 'ColumnRef' || kind(e.rexpr) !== 'ColumnRef') return false
    const a = refNames(body(e.lexpr))
    const b = refNames(body(e.rexpr))
    if (a.length !== 2 || b.length !== 2 || a[1] !== b[1] || !COLOCATED_KEYS.has(a[1]!)) return false
    const names = new Set([a[0], b[0]])
    return names.has(pair![0].alias) && names.has(pair![1].alias)
  })
  if (!colocated) return undefined
  return {
    tables: pair.map((u) => ({ table: u.relation as EventTable, ref: { qualifiers: [u.alias], unqualified: false }, use: u })),
  }
}

/**
 * Whether the subquery of `link` reads only rows of the outer row's host: its FROM is one event
 * table, and its WHERE says, at the top level, that its host_name (or container_id) equals that
 * of a table of `outer`. A host lives on one shard, so each edge evaluates it for its own rows
 * exactly as one central PostgreSQL would ("the latest alert of each host", EXISTS of a log of
 * the same host): the statement needs no gather. A subquery within it, or a name of the outer
 * query reused inside, is not followed.
 */
export function colocatedSubLink(link: Node, outer: SimpleFrom, uses: readonly RelationUse[]): boolean {
  if (kind(link.subselect) !== 'SelectStmt') return false
  const s = body(link.subselect)
  if (s.op !== 'SETOP_NONE' || s.withClause || s.lockingClause || s.intoClause) return false
  let nested = false
  visit([s.targetList, s.whereClause, s.havingClause, s.sortClause, s.groupClause, s.distinctClause, s.limitCount, s.limitOffset, s.windowClause], (t) => {
    if (t === 'SubLink' || t === 'RangeSubselect' || t === 'RangeFunction') nested = true
  })
  const from = (s.fromClause as Node[] | undefined) ?? []
  if (nested || from.length !== 1 || kind(from[0]) !== 'RangeVar') return false
  const inner = uses.find((u) => u.rangeVar === body(from[0]))
  if (!inner || (inner.relation !== 'alerts' && inner.relation !== 'logs')) return false
  const outerNames = new Set(outer.tables.flatMap((t) => t.ref.qualifiers))
  if (outerNames.has(inner.alias)) return false
  const key = (n: string[]) => (n.length === 1 ? n[0] : n.length === 2 ? n[1] : undefined)
  const innerRef = (n: string[]) => n.length === 1 || n[0] === inner.alias
  const outerRef = (n: string[]) => n.length === 2 && outerNames.has(n[0]!)
  return conjuncts(s.whereClause).some((q) => {
    if (kind(q) !== 'A_Expr' || body(q).kind !== 'AEXPR_OP') return false
    const e = body(q)
    if (((e.name as Node[])[0]?.String as { sval?: string } | undefined)?.sval !== '=') return false
    if (kind(e.lexpr) !== 'ColumnRef' || kind(e.rexpr) !== 'ColumnRef') return false
    const a = refNames(body(e.lexpr))
    const b = refNames(body(e.rexpr))
    const k = key(a)
    if (k === undefined || k !== key(b) || !COLOCATED_KEYS.has(k)) return false
    return (innerRef(a) && outerRef(b)) || (innerRef(b) && outerRef(a))
  })
}

/** The type of an event-table column named by a ColumnRef in a simple FROM, if it is one. */
export function columnType(ref: Node, from: SimpleFrom): string | undefined {
  const names = refNames(ref)
  for (const t of from.tables) {
    const col = names.length === 1 ? (t.ref.unqualified || from.tables.length === 1 ? names[0] : undefined) : t.ref.qualifiers.includes(names[0]!) ? names[1] : undefined
    if (col === undefined) continue
    const spec = eventColumns[t.table].find((c) => c.name === col)
    if (spec) return spec.type
  }
  return undefined
}

/**
 * The WHERE that filters a relation's rows alone: that of the SELECT (the statement's own, or a
 * subquery's, a CTE's, a set operation's arm) whose FROM is that one table. Unqualified columns
 * there are the table's own when it has them (the innermost FROM comes first in SQL's scoping),
 * and its alias names it even where an outer one is the same. Undefined when the relation is
 * read in a join or beside other FROM items.
 */
export function ownWhere(stmt: unknown, use: RelationUse): { readonly where: unknown; readonly ref: RelationRef } | undefined {
  let found: { where: unknown; ref: RelationRef } | undefined
  visit(stmt, (type, f) => {
    if (found) return false
    if (type !== 'SelectStmt') return
    const from = (f.fromClause as Node[] | undefined) ?? []
    if (from.length === 1 && kind(from[0]) === 'RangeVar' && body(from[0]) === use.rangeVar) found = { where: f.whereClause, ref: { qualifiers: [use.alias], unqualified: true } }
  })
  return found
}
