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
