/**
 * Walking libpg-query's JSON syntax tree, where every node is a wrapper `{ TypeName: {...} }`.
 * Shared by the gateway (routing, planning) and the edge (its statement guard).
 */

export type AstNode = Record<string, unknown>

/** Node type names start with an upper-case letter; field names do not. */
export const isTypeName = (k: string): boolean => {
  const c = k.charCodeAt(0)
  return c >= 65 && c <= 90
}

/**
 * Visits every node depth first, with its type, its fields and its wrapper; `fn` returning
 * false skips the node's children.
 */
export function visit(n: unknown, fn: (type: string, f: AstNode, wrapper: AstNode) => boolean | void): void {
  if (Array.isArray(n)) {
    for (const x of n) visit(x, fn)
    return
  }
  if (n === null || typeof n !== 'object') return
  for (const k in n as AstNode) {
    const v = (n as AstNode)[k]
    if (v === null || typeof v !== 'object') continue
    if (!Array.isArray(v) && isTypeName(k) && fn(k, v as AstNode, n as AstNode) === false) continue
    visit(v, fn)
  }
}

/** The number of the first `$n` in a tree, in visiting order; 0 when it has none. */
export function firstParamRef(n: unknown): number {
  let number = 0
  visit(n, (type, f) => {
    if (number !== 0) return false
    if (type === 'ParamRef') number = Number(f.number ?? 0)
  })
  return number
}

/**
 * The RangeVars of a statement that name a relation rather than a CTE. A WITH's names are seen
 * by the statement it belongs to (and the subqueries within), and by its own CTEs: the earlier
 * ones, or all of them with RECURSIVE. A CTE inside a subquery hides nothing outside it, and a
 * schema-qualified name is never a CTE.
 */
export function relationRangeVars(n: unknown): AstNode[] {
  const out: AstNode[] = []
  walkScoped(n, new Set(), out)
  return out
}

function walkScoped(n: unknown, scope: ReadonlySet<string>, out: AstNode[]): void {
  if (Array.isArray(n)) {
    for (const x of n) walkScoped(x, scope, out)
    return
  }
  if (n === null || typeof n !== 'object') return
  const node = n as AstNode
  // A statement's fields (wrapped, or bare as a set operation's larg and rarg) with its WITH.
  const w = node.withClause as AstNode | undefined
  let inner = scope
  if (w && Array.isArray(w.ctes)) {
    const ctes = (w.ctes as AstNode[]).map((c) => c.CommonTableExpr as AstNode)
    const names = ctes.map((c) => String(c.ctename))
    ctes.forEach((c, i) => walkScoped(c.ctequery, new Set([...scope, ...(w.recursive ? names : names.slice(0, i))]), out))
    inner = new Set([...scope, ...names])
  }
  for (const k in node) {
    if (k === 'withClause') continue
    const v = node[k]
    if (v === null || typeof v !== 'object') continue
    if (k === 'RangeVar' && !Array.isArray(v)) {
      const f = v as AstNode
      if (f.schemaname !== undefined || !inner.has(String(f.relname))) out.push(f)
      continue
    }
    walkScoped(v, inner, out)
  }
}

/** A FuncCall body's name (lower case) when it names a catalog function: unqualified or in pg_catalog. */
export function catalogFunctionName(f: AstNode): string | undefined {
  const names = ((f.funcname as AstNode[] | undefined) ?? []).map((n) => ((n.String as { sval?: string } | undefined)?.sval ?? '').toLowerCase())
  return names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog') ? names[names.length - 1] : undefined
}
