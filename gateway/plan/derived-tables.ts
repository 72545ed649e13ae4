/**
 * Derived tables run apart: a subquery in FROM, a WITH query or an arm of a set operation, of a
 * statement that would otherwise be gathered, often aggregates (Metabase's nested questions:
 * `SELECT count(*) FROM (SELECT host_name, count(*) AS n FROM logs GROUP BY 1) s WHERE n > 100`).
 * Gathered, every event behind it is shipped and aggregated again on the gateway. Run as a
 * statement of its own, in the tier that fits it (partial-aggregate there), only its result
 * crosses the network. Its rows then stand in the statement as `unnest($a, $b) AS s(x, y)`:
 * one array parameter per column, of the column's own type, values exactly as the edges sent
 * them. Like init plans (init-plans.ts), this module finds and rewrites; the executor runs.
 */
import { parseSync } from 'libpg-query'
import { quoteIdent as q } from '../../common/sql-quote.js'
import { body, deparseSelect, kind, rewrite, visit, type Node } from './ast.js'
import { hasAggregates } from './partial-aggregate.js'
import { dataRelations } from './relations.js'

export interface DerivedCandidate {
  /** The node the rows replace (a RangeSubselect's, CommonTableExpr's or arm's body), by identity. */
  readonly node: Node
  readonly place: 'from' | 'with' | 'arm'
  readonly select: Node
  readonly sql: string
  /** The names the statement gives its columns (a FROM alias's or WITH query's column list), if any. */
  readonly names: readonly string[]
}

/** Whether a derived table's result is smaller than the rows behind it: aggregated, distinct or limited. */
function reduces(select: Node): boolean {
  return hasAggregates(select) || !!select.groupClause || !!select.havingClause || !!select.distinctClause || !!select.limitCount
}

function collated(select: Node): boolean {
  let found = false
  visit(select.targetList, (t) => void (t === 'CollateClause' && (found = true)))
  return found
}

const aliasNames = (alias: unknown): string[] => (((alias as Node | undefined)?.colnames as Node[] | undefined) ?? []).map((c) => String((c.String as Node).sval))

/** The arms of a set operation, in order. */
const leaves = (s: Node): Node[] => (s.op === 'SETOP_NONE' ? [s] : [...leaves(s.larg as Node), ...leaves(s.rarg as Node)])

/**
 * Whether the set operation's column types do not depend on its arms being together: an untyped
 * constant ('a', NULL) takes the type of the other arms' column, or text alone. Where every arm
 * has one, or none does, an arm run alone has the type it has in the operation.
 */
function armsTypedAlone(s: Node): boolean {
  const untypedConst = (v: unknown) => kind(v) === 'A_Const' && (body(v).isnull === true || body(v).sval !== undefined)
  const untyped = leaves(s).map((arm) => ((arm.targetList as Node[] | undefined) ?? []).map((t) => untypedConst(body(t).val)))
  return untyped[0]!.every((_, i) => untyped.every((u) => u[i] === untyped[0]![i]))
}

/**
 * The derived tables of the statement's own FROM (joins included, LATERAL ones not: those read
 * the row beside them), WITH (not RECURSIVE) and set operation that read Fedgres's tables and
 * reduce them. One inside another is the outer one's own.
 */
export function derivedCandidates(select: Node, searchPath: readonly string[]): DerivedCandidate[] {
  const out: DerivedCandidate[] = []
  const consider = (node: Node, place: DerivedCandidate['place'], sub: Node | undefined, names: string[]) => {
    if (!sub || sub.op !== 'SETOP_NONE' || !reduces(sub) || collated(sub) || sub.lockingClause || sub.intoClause) return
    if (dataRelations({ SelectStmt: sub }, searchPath).length === 0) return
    out.push({ node, place, select: sub, sql: deparseSelect(sub), names })
  }
  const fromItems = (items: unknown) => {
    for (const item of (items as Node[] | undefined) ?? []) {
      const f = body(item)
      if (kind(item) === 'JoinExpr') fromItems([f.larg, f.rarg])
      else if (kind(item) === 'RangeSubselect' && !f.lateral && kind(f.subquery) === 'SelectStmt') consider(f, 'from', body(f.subquery), aliasNames(f.alias))
    }
  }
  const withClause = select.withClause as Node | undefined
  if (withClause && !withClause.recursive) {
    for (const cte of (withClause.ctes as Node[] | undefined) ?? []) {
      const c = body(cte)
      if (kind(c.ctequery) === 'SelectStmt') consider(c, 'with', body(c.ctequery), [])
    }
  }
  if (select.op === 'SETOP_NONE') fromItems(select.fromClause)
  else if (armsTypedAlone(select)) for (const arm of leaves(select)) consider(arm, 'arm', arm, [])
  return out
}

/** `SELECT * FROM unnest($a, $b, ...) AS alias(names)` as a tree: one array parameter per column. */
function rowsSelect(params: readonly number[], alias: string, names: readonly string[]): Node {
  const sql = `SELECT * FROM unnest(${params.map((p) => `$${p}`).join(', ')}) AS ${q(alias)}(${names.map(q).join(', ')})`
  return (parseSync(sql) as { stmts: { stmt: Node }[] }).stmts[0]!.stmt
}

type Bound = { readonly candidate: DerivedCandidate; readonly params: readonly number[]; readonly names: readonly string[] }

/** The statement with each derived table replaced by its rows, given as the parameters `params` (one per column). */
export function withDerivedRows(select: Node, bound: readonly Bound[]): Node {
  const byNode = new Map(bound.map((b) => [b.candidate.node, b]))
  // The arms of a set operation are bodies, not wrapped nodes: replaced on the way down.
  const arms = (s: Node): Node => {
    const b = byNode.get(s)
    if (b) return body(rowsSelect(b.params, '__rows', b.names))
    if (s.op === 'SETOP_NONE') return s
    return { ...s, larg: arms(s.larg as Node), rarg: arms(s.rarg as Node) }
  }
  return body(
    rewrite({ SelectStmt: arms(select) }, (w) => {
      const b = byNode.get(body(w))
      if (!b) return undefined
      if (kind(w) === 'CommonTableExpr') return { CommonTableExpr: { ...body(w), ctequery: rowsSelect(b.params, '__rows', b.names) } }
      // The FROM item becomes the function scan itself, under the subquery's alias.
      const alias = String((body(w).alias as Node | undefined)?.aliasname ?? '__rows')
      return (body(rowsSelect(b.params, alias, b.names)).fromClause as Node[])[0]!
    }),
  )
}
