/**
 * Inlining a WITH query, as PostgreSQL does since 12: `WITH recent AS (SELECT ... FROM alerts
 * WHERE ...) SELECT host_name, count(*) FROM recent GROUP BY 1` reads the CTE where it is used,
 * as a subquery in FROM, which pull-up.ts may then merge into the statement.
 *
 * Inlined only when the answer cannot change: the WITH has one CTE, not RECURSIVE or
 * MATERIALIZED, a SELECT, used exactly once in the whole statement, and that use is the FROM of
 * the statement or of the subquery chain in its FROM (so it is read once, as the materialized
 * CTE would be).
 */
import { body, kind, rewrite, visit, type Node } from './ast.js'

interface Cte {
  readonly ctename: string
  readonly ctequery: unknown
  readonly ctematerialized?: string
  readonly aliascolnames?: Node[]
  readonly search_clause?: unknown
  readonly cycle_clause?: unknown
}

/** The RangeVar body of the CTE's one use on the FROM chain, if that is where it is. */
function useOnFromChain(select: Node, name: string): Node | undefined {
  let s: Node = select
  for (;;) {
    const from = (s.fromClause as Node[] | undefined) ?? []
    if (from.length !== 1) return undefined
    const f = body(from[0])
    if (kind(from[0]) === 'RangeVar') return f.schemaname === undefined && f.relname === name ? f : undefined
    if (kind(from[0]) !== 'RangeSubselect' || f.lateral || kind(f.subquery) !== 'SelectStmt') return undefined
    s = body(f.subquery)
    // A WITH down the chain may define the same name: its uses are not this CTE's.
    if (s.withClause) return undefined
  }
}

/** The statement with its one CTE read in place, or undefined when it is not inlined. */
export function inlineSingleCte(select: Node): Node | undefined {
  const w = select.withClause as { ctes?: Node[]; recursive?: boolean } | undefined
  if (!w || w.recursive || w.ctes?.length !== 1 || kind(w.ctes[0]) !== 'CommonTableExpr') return undefined
  const cte = body(w.ctes[0]) as unknown as Cte
  if (cte.ctematerialized === 'CTEMaterializeAlways' || kind(cte.ctequery) !== 'SelectStmt' || cte.search_clause || cte.cycle_clause) return undefined
  const rest: Node = { ...select, withClause: undefined }
  let uses = 0
  visit(rest, (t, f) => {
    if (t === 'RangeVar' && f.schemaname === undefined && f.relname === cte.ctename) uses++
  })
  const use = uses === 1 ? useOnFromChain(rest, cte.ctename) : undefined
  if (!use) return undefined
  const alias = use.alias as Node | undefined
  if (alias?.colnames && cte.aliascolnames) return undefined
  const colnames = (alias?.colnames as Node[] | undefined) ?? cte.aliascolnames
  const subselect: Node = { RangeSubselect: { subquery: cte.ctequery, alias: { aliasname: (alias?.aliasname as string | undefined) ?? cte.ctename, ...(colnames ? { colnames } : {}) } } }
  return rewrite(rest, (x) => (kind(x) === 'RangeVar' && body(x) === use ? subselect : undefined)) as Node
}
