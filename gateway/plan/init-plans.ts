/**
 * Init plans: a subquery that reads no column of the statement around it has one value for the
 * whole statement, which PostgreSQL computes once (an InitPlan). The gateway does the same
 * before planning the statement: it runs the subquery as a statement of its own (planned in
 * whatever tier fits it, across the edges), and puts its value in the statement as a parameter.
 * The statement is then planned knowing that value: `host_name IN (SELECT host_name FROM alerts
 * WHERE severity > 8)` becomes `host_name = ANY($n)`, which prunes edges and runs where the rows
 * are, where before both tables were gathered.
 *
 * This module only finds such subqueries and rewrites the statement; the executor runs them
 * (exec/init-plans.ts) and confirms each reads nothing from outside (the shadow describes it on
 * its own), falling back to the statement as written when it cannot.
 */
import { body, deparseSelect, intConst, kind, refNames, rewrite, str, visit, type Node } from './ast.js'
import { hasAggregates } from './partial-aggregate.js'
import { dataRelations } from './relations.js'

/** What the subquery's value becomes: one value, or the array of its rows for ANY, ALL or ARRAY(). */
export type InitKind = 'scalar' | 'any' | 'all' | 'array'

export interface InitCandidate {
  /** The SubLink (its body), as found in the statement's tree. */
  readonly link: Node
  readonly kind: InitKind
  /** The subquery, and its SQL as the gateway runs it. */
  readonly select: Node
  readonly sql: string
}

const KINDS: Record<string, InitKind> = { EXPR_SUBLINK: 'scalar', ANY_SUBLINK: 'any', ALL_SUBLINK: 'all', ARRAY_SUBLINK: 'array' }

/** Names a column reference inside `select` may be qualified by: its FROM items' and CTEs' names, at any depth. */
function ownNames(select: Node): Set<string> {
  const names = new Set<string>()
  visit(select, (t, f) => {
    const alias = (f.alias as Node | undefined)?.aliasname as string | undefined
    if (alias) names.add(alias)
    if (t === 'RangeVar' && !alias) names.add(String(f.relname))
    if (t === 'CommonTableExpr') names.add(String(f.ctename))
  })
  return names
}

/**
 * Whether a column of `select` is qualified by a name it does not define: an outer query's.
 * (An unqualified one cannot be told apart here: the shadow's describe of the subquery alone
 * finds those.)
 */
function readsOuterByName(select: Node): boolean {
  const names = ownNames(select)
  let outer = false
  visit(select, (t, f) => {
    if (t !== 'ColumnRef') return
    const n = refNames(f)
    const star = n[n.length - 1] === '*'
    const qualifier = n.length >= 2 ? n[n.length - 2] : undefined
    if (qualifier !== undefined && !names.has(qualifier) && !(star && n.length === 1)) outer = true
  })
  return outer
}

/**
 * The subqueries of a statement that may be init plans: scalar, ANY, ALL and ARRAY() subqueries
 * over Fedgres's tables (a subquery over the catalog alone stays in the statement), not written
 * with a row on the left (`(a, b) IN (...)`), and not naming an outer query's table. Outermost
 * first; one inside another is the outer one's own (it runs as a statement, with its own).
 */
export function initCandidates(select: Node, searchPath: readonly string[]): InitCandidate[] {
  const out: InitCandidate[] = []
  visit(select, (t, f) => {
    if (t !== 'SubLink') return undefined
    const k = KINDS[String(f.subLinkType)]
    const sub = kind(f.subselect) === 'SelectStmt' ? body(f.subselect) : undefined
    if (!k || !sub || kind(f.testexpr) === 'RowExpr') return undefined
    if (dataRelations({ SelectStmt: sub }, searchPath).length === 0 || readsOuterByName(sub)) return undefined
    // An output with its own collation is compared under it, as a parameter would not be.
    let collated = false
    visit(sub.targetList, (tt) => void (tt === 'CollateClause' && (collated = true)))
    if (collated) return undefined
    out.push({ link: f, kind: k, select: sub, sql: deparseSelect(sub) })
    return false
  })
  return out
}

/** The statement with each candidate replaced by its parameter (`$n`, `x = ANY($n)`, `x > ALL($n)`). */
export function withInitParams(select: Node, inits: readonly { readonly candidate: InitCandidate; readonly param: number }[]): Node {
  const byLink = new Map(inits.map((i) => [i.candidate.link, i]))
  return rewrite(select, (w) => {
    const init = kind(w) === 'SubLink' ? byLink.get(body(w)) : undefined
    if (!init) return undefined
    const p: Node = { ParamRef: { number: init.param } }
    const { kind: k, link } = init.candidate
    if (k === 'scalar' || k === 'array') return p
    // `x IN (SELECT ...)` has no operator name: it is `=`.
    const name = (link.operName as Node[] | undefined) ?? [str('=')]
    return { A_Expr: { kind: k === 'any' ? 'AEXPR_OP_ANY' : 'AEXPR_OP_ALL', name, lexpr: link.testexpr, rexpr: p } }
  }) as Node
}

/**
 * For ANY and ALL, only which values the subquery returns matters, not how often or in what
 * order: the same subquery with DISTINCT (and no ORDER BY), so the edges send each value once.
 * Only for a plain subquery (no LIMIT, OFFSET, DISTINCT, set operation or locking), and the
 * caller asks only for types whose equality is identity (not numeric's 1.0 = 1.00).
 */
export function distinctValues(select: Node): Node | undefined {
  if (select.op !== 'SETOP_NONE' || select.limitCount || select.limitOffset || select.distinctClause || select.lockingClause || select.intoClause || select.withClause) return undefined
  const targets = (select.targetList as Node[] | undefined) ?? []
  let windowed = false
  visit(targets, (t, f) => void (t === 'FuncCall' && f.over && (windowed = true)))
  const star = targets.some((t) => kind(body(t).val) === 'ColumnRef' && refNames(body(body(t).val as Node)).at(-1) === '*')
  // Without aggregates, DISTINCT is a GROUP BY of the outputs, which the edges run in part.
  if (!hasAggregates(select) && !select.groupClause && !select.havingClause && !windowed && !star && targets.length === 1) return { ...select, groupClause: [intConst(1)], sortClause: undefined }
  return { ...select, distinctClause: [{}], sortClause: undefined }
}
