/**
 * The gather tier: each data relation the statement reads is fetched from the edges as the
 * distinct rows of the columns it needs, with their counts, filtered by the conjuncts that
 * concern it alone. The client's statement then runs unchanged on the gateway's own PostgreSQL
 * (the shadow), each relation replaced by its fetched rows: whatever PostgreSQL can answer over
 * the rows, it answers exactly.
 */
import { parseSync } from 'libpg-query'
import { deparseSql } from '../../common/sql-deparse.js'
import { firstParamRef } from '../../common/pg-ast.js'
import { quoteIdent as q } from '../../common/sql-quote.js'
import { andOf, body, conjuncts, deparseExpr, kind, refNames, rewrite, visit, type Node } from './ast.js'
import { ownWhere, relationColumns, type DataRelation, type RelationUse, type SimpleFrom } from './relations.js'
import { readsShadowOnly } from './session-values.js'
import { duplicatesIrrelevant } from './partial-aggregate.js'
import { arrayTypeOf, typeOidOf } from './pg-types.js'
import type { CombineSpec, Feed, Fetch, GatherPlan } from './types.js'


/** Whether a FROM list reads `rangeVar` itself (in a join or sampled; not within a subquery). */
function readsDirectly(from: unknown, rangeVar: Node): boolean {
  return ((from as Node[] | undefined) ?? []).some((item) => {
    const k = kind(item)
    const f = body(item)
    if (k === 'RangeVar') return f === rangeVar
    if (k === 'JoinExpr') return readsDirectly([f.larg, f.rarg], rangeVar)
    if (k === 'RangeTableSample') return readsDirectly([f.relation], rangeVar)
    return false
  })
}

/**
 * Columns of `use` the statement may read: all of them for its whole row, `alias.*`, or a `*` of
 * a SELECT that reads the table itself (a `*` over a subquery reads only that subquery's
 * outputs). The conjuncts in `skip` are left out (the edges apply them, and the local statement
 * no longer has them).
 */
export function neededColumns(stmt: unknown, use: RelationUse, skip: ReadonlySet<unknown> = new Set()): Set<string> {
  const all = relationColumns(use.relation).map((c) => c.name)
  const alias = use.alias
  const names = new Set<string>()
  let everything = false
  visit(stmt, (t, f, w) => {
    if (skip.has(w)) return false
    if (t === 'SelectStmt' && readsDirectly(f.fromClause, use.rangeVar)) {
      for (const target of (f.targetList as Node[] | undefined) ?? []) {
        const val = body(target).val
        if (kind(val) === 'ColumnRef' && refNames(body(val)).join('.') === '*') everything = true
      }
    }
    if (t === 'ColumnRef') {
      const n = refNames(f)
      const last = n[n.length - 1]!
      if ((last === '*' && n.length > 1 && n[n.length - 2] === alias) || (n.length === 1 && n[0] === alias)) everything = true
      else if (last !== '*') names.add(last)
    }
    // A NATURAL join, or a join given an alias (its whole row, or its columns renamed, can name any column).
    if (t === 'JoinExpr' && (f.isNatural || f.alias)) everything = true
    if (t === 'JoinExpr') for (const u of (f.usingClause as Node[] | undefined) ?? []) names.add((u.String as { sval: string }).sval)
    if (t === 'RangeVar' && (f.alias as Node | undefined)?.colnames) everything = true
  })
  return new Set(all.filter((c) => everything || names.has(c)))
}

/**
 * Conjuncts that read only this relation (and so may run on the edges): of the top-level WHERE
 * when the statement's FROM is simple, else of the WHERE of the SELECT whose FROM is this table
 * alone (a subquery's: a correlated subquery over thousands of gathered rows needs its own
 * filters at the edges, or it rescans them all for every outer row).
 */
export function pushableConjuncts(select: Node, from: SimpleFrom | undefined, use: RelationUse): Node[] {
  const t = from?.tables.find((x) => x.use === use)
  const own = t ? { where: select.whereClause, ref: t.ref } : ownWhere({ SelectStmt: select }, use)
  if (!own) return []
  // Beyond the top level, an unqualified column the table lacks is an outer query's.
  const columns = t ? undefined : new Set(relationColumns(use.relation).map((c) => c.name))
  return conjuncts(own.where).filter((c) => {
    let ok = true
    let touches = false
    visit(c, (type, f) => {
      if (type === 'SubLink' || (type === 'FuncCall' && f.over)) ok = false
      if (type === 'ColumnRef') {
        const n = refNames(f)
        touches = true
        if (n.length === 1 ? !own.ref.unqualified || (columns && !columns.has(n[0]!)) : !(n.length === 2 && own.ref.qualifiers.includes(n[0]!))) ok = false
      }
    })
    // A function of the session is the gateway's to evaluate (session-values.ts).
    return ok && touches && !readsShadowOnly(c)
  })
}

export interface FeedRequest {
  readonly use: RelationUse
  /** Conjuncts pushed to the edges, and the fetch's targets (planned by the caller). */
  readonly pushed: readonly Node[]
  readonly fetch: Omit<Fetch, 'sql' | 'usesParams' | 'hiddenColumns'> | undefined
}

/** The edges' statement for a feed: distinct needed rows with their counts. */
function feedSql(rel: DataRelation, alias: string, needed: readonly string[], pushed: readonly Node[], sample: Node | undefined): string {
  const table = rel === 'alerts' || rel === 'logs' ? `public.${rel}` : rel
  const cols = needed.map((c) => `${q(alias)}.${q(c)}`)
  const where = pushed.length ? ` WHERE ${pushed.map((c) => `(${deparseExpr(c)})`).join(' AND ')}` : ''
  const group = cols.length ? ` GROUP BY ${cols.map((_, i) => i + 1).join(', ')}` : ''
  return `SELECT ${[...cols, 'count(*)'].join(', ')} FROM ${table} AS ${q(alias)}${sample ? tablesample(sample) : ''}${where}${group}`
}

/**
 * A TABLESAMPLE clause, for each edge to sample its own rows: a sample of every edge's rows at
 * the same rate is a sample of all of them, by the same method. With REPEATABLE, each edge
 * draws the same sample again while its rows are unchanged, as one table would.
 */
function tablesample(sample: Node): string {
  const method = refNames({ fields: sample.method }).map((n) => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : q(n))).join('.')
  const args = ((sample.args as Node[] | undefined) ?? []).map((a) => deparseExpr(a)).join(', ')
  return ` TABLESAMPLE ${method} (${args})${sample.repeatable ? ` REPEATABLE (${deparseExpr(sample.repeatable as Node)})` : ''}`
}

/** The TABLESAMPLE clauses of a statement, by the RangeVar (body) they sample. */
function samplesOf(stmt: Node): Map<Node, Node> {
  const out = new Map<Node, Node>()
  visit(stmt, (t, f) => {
    const rv = t === 'RangeTableSample' ? (f.relation as Node | undefined) : undefined
    if (rv && kind(rv) === 'RangeVar') out.set(body(rv), f)
  })
  return out
}

const hasParams = (n: unknown) => firstParamRef(n) !== 0

/**
 * The subquery standing for a relation in the local statement. Each column's text array is read
 * as an array of the column's type, once: PostgreSQL pulls the subquery up into the statement,
 * so a cast in its select list was evaluated wherever the column is used, and a join filter on
 * time parsed two timestamps for every pair of rows (a join of alerts and logs on process_name
 * within 10 s, 13 million pairs, ran past the engine's 30 s limit; native PostgreSQL took 1.2 s).
 * An array-typed column (tags) has no array of its type, and is still cast per row.
 */
function feedSubquery(columns: Feed['columns'], paramBase: number, binary = false, expand = true): Node {
  const needed = columns.filter((c) => c.needed)
  const typed = (c: { type: string }) => c.type !== 'text' && !c.type.endsWith('[]')
  // Binary arrays are bound with their types: read as they are.
  const arrays = binary
    ? [...needed.map((_, i) => `$${paramBase + i}`), `$${paramBase + needed.length}`]
    : [...needed.map((c, i) => `$${paramBase + i}::text[]${typed(c) ? `::${c.type}[]` : ''}`), `$${paramBase + needed.length}::int8[]`]
  const names = [...needed.map((_, i) => `c${i}`), 'n']
  let k = 0
  const targets = columns.map((c) => (c.needed ? `u.c${k++}${c.type.endsWith('[]') ? `::${c.type}` : ''} AS ${q(c.name)}` : `NULL::${c.type} AS ${q(c.name)}`))
  // Each row as many times as the edges counted it, unless the statement cannot tell.
  const sql = `SELECT ${targets.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${names.join(', ')})${expand ? ', generate_series(1, u.n) AS __n' : ''}`
  const stmt = (parseSync(sql) as { stmts: { stmt: Node }[] }).stmts[0]!.stmt
  return stmt
}

/**
 * Builds the gather plan's feeds and local statement from a (now-substituted) statement. A
 * conjunct the edges apply is left out of the local statement: its rows are already filtered
 * (in a WHERE whose FROM joins only inner, so no row it removes comes back NULL-extended), a
 * volatile one is not drawn twice, and a column it alone reads is not shipped: a filter on time
 * no longer makes the feed one row per event.
 */
export function buildGather(stmt: Node, requests: readonly FeedRequest[], paramCount: number, maxRows: number): GatherPlan {
  const feeds: Feed[] = []
  const replacement = new Map<Node, Node>()
  const samples = samplesOf(stmt)
  const applied = new Set<unknown>(requests.flatMap((r) => (r.fetch ? r.pushed : [])))
  let nextParam = paramCount + 1
  const expand = !duplicatesIrrelevant(body(stmt))
  for (const r of requests) {
    const needed = neededColumns(stmt, r.use, applied)
    const columns = relationColumns(r.use.relation).map((c) => ({ ...c, needed: needed.has(c.name) }))
    const paramBase = nextParam
    nextParam += columns.filter((c) => c.needed).length + 1
    const sample = samples.get(r.use.rangeVar)
    const usesParams = r.pushed.some(hasParams) || hasParams(sample)
    const fetch: Fetch | undefined = r.fetch && {
      ...r.fetch,
      sql: feedSql(r.use.relation, r.use.alias, columns.filter((c) => c.needed).map((c) => c.name), r.pushed, sample),
      usesParams,
      hiddenColumns: 0,
    }
    const binaryTypes = fetch ? binaryFeedTypes(columns) : undefined
    feeds.push({ relation: r.use.relation, columns, paramBase, fetch, ...(binaryTypes ? { binaryTypes } : {}) })
    const rv = r.use.rangeVar
    const alias = (rv.alias as Node | undefined) ?? { aliasname: String(rv.relname) }
    replacement.set(rv, { RangeSubselect: { subquery: feedSubquery(columns, paramBase, !!binaryTypes, expand), alias } })
  }
  const localize = (w: Node): Node | undefined => {
    if (kind(w) === 'RangeVar') return replacement.get(body(w))
    if (kind(w) === 'SelectStmt' && applied.size) {
      const all = conjuncts(body(w).whereClause)
      const kept = all.filter((c) => !applied.has(c))
      // Rewritten again with its WHERE cut: it has none of the applied conjuncts left, so it comes back here only once.
      if (kept.length < all.length) return rewrite({ SelectStmt: { ...body(w), whereClause: andOf(kept) } }, localize) as Node
    }
    // The sample is drawn on the edges: what is left is the sampled rows.
    const rv = kind(w) === 'RangeTableSample' ? (body(w).relation as Node | undefined) : undefined
    return rv && kind(rv) === 'RangeVar' ? replacement.get(body(rv)) : undefined
  }
  const local = rewrite(stmt, localize) as Node
  return { tier: 'gather', feeds, localSql: deparseStatement(local), maxRows }
}

const deparseStatement = (stmt: Node): string => deparseSql({ stmts: [{ stmt }] } as never)

const BIGINT = 20

/**
 * The element types of a feed's arrays when every needed column has an array type (not tags,
 * an array itself): its rows then travel in binary and are bound as arrays of their own types,
 * with no text to parse (80,000 timestamps parsed from text were most of a join's local time).
 */
function binaryFeedTypes(columns: Feed['columns']): number[] | undefined {
  const oids = columns.filter((c) => c.needed).map((c) => typeOidOf(c.type))
  if (oids.some((o) => o === undefined || arrayTypeOf(o) === undefined)) return undefined
  return [...(oids as number[]), BIGINT]
}

/** The final statement of the partial-aggregate tier, once the partial columns' types are known. */
export function combineSql(spec: CombineSpec, partialTypes: readonly string[], outputTypes: readonly (string | undefined)[], paramBase: number, binaryArrays = false): string {
  const columns = spec.partialNames.map((name, i) => ({ name, type: partialTypes[i]!, needed: true }))
  // Binary arrays of the partials' own types are read as they are; text arrays are cast, with a count.
  const sub: Node = binaryArrays ? arraysScan(spec.partialNames, paramBase) : { RangeSubselect: { subquery: feedSubquery(columns, paramBase), alias: { aliasname: '__p' } } }
  // sum() of smallint or integer is bigint, but the sum of the edges' bigint sums is numeric:
  // cast back, so an expression over it (`sum(pid) / 2`) computes as PostgreSQL's would, and a
  // total beyond bigint fails as it would (22003).
  const bigintSums = new Set(spec.partialNames.filter((_, i) => spec.partialKinds[i] === 'sum' && partialTypes[i] === 'bigint'))
  const select = rewrite(spec.select, (w) => {
    if (kind(w) === 'RangeVar' && body(w).relname === '__p') return sub
    if (kind(w) !== 'FuncCall' || bigintSums.size === 0) return undefined
    const f = body(w)
    const arg = (f.args as Node[] | undefined)?.[0]
    const name = arg && kind(arg) === 'ColumnRef' ? refNames(body(arg)) : []
    if (refNames({ fields: f.funcname }).join('.') !== 'sum' || name[0] !== '__p' || !bigintSums.has(name[1]!)) return undefined
    return { TypeCast: { arg: w, typeName: typeNameNode('bigint') } }
  }) as Node
  const targets = (select.targetList as Node[]).map((t, i) => {
    const rt = body(t)
    const type = outputTypes[i]
    return type ? { ResTarget: { ...rt, val: { TypeCast: { arg: rt.val, typeName: typeNameNode(type) } } } } : t
  })
  return deparseStatement({ SelectStmt: { ...select, targetList: targets } })
}

/** `unnest($base, ...) AS __p(names)`: one array parameter per partial column, each row once. */
function arraysScan(names: readonly string[], paramBase: number): Node {
  const sql = `SELECT * FROM unnest(${names.map((_, i) => `$${paramBase + i}`).join(', ')}) AS __p(${names.map((n) => q(n)).join(', ')})`
  return ((body((parseSync(sql) as { stmts: { stmt: Node }[] }).stmts[0]!.stmt).fromClause as Node[])[0]!)
}

/** A TypeName node for a type as SQL writes it (`double precision`, `text[]`). */
function typeNameNode(type: string): Node {
  const stmt = (parseSync(`SELECT NULL::${type}`) as { stmts: { stmt: Node }[] }).stmts[0]!.stmt
  const tc = body(((body(stmt).targetList as Node[])[0]!.ResTarget as Node).val)
  return tc.typeName as Node
}
