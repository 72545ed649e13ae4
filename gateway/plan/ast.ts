/**
 * Small, pure helpers over libpg-query's JSON syntax tree: building nodes, comparing
 * expressions, splitting conjunctions and deparsing. Nothing here does I/O.
 */
import { deparseSql } from '../../common/sql-deparse.js'
import { isTypeName, visit } from '../../common/pg-ast.js'

export { isTypeName, visit } from '../../common/pg-ast.js'

export type Node = Record<string, unknown>

/** The single key of a node wrapper (`{ ColumnRef: {...} }` → 'ColumnRef'). */
export const kind = (n: unknown): string | undefined => (n && typeof n === 'object' && !Array.isArray(n) ? Object.keys(n as Node)[0] : undefined)
export const body = (n: unknown): Node => (n as Node)[kind(n)!] as Node

/** A structural key of an expression: its JSON without source locations. */
export function exprKey(n: unknown): string {
  return JSON.stringify(n, (k, v) => (k === 'location' ? undefined : v))
}

export const clone = <T>(n: T): T => structuredClone(n)

export const str = (s: string): Node => ({ String: { sval: s } })
export const colRef = (...names: string[]): Node => ({ ColumnRef: { fields: names.map(str) } })
export const textConst = (s: string): Node => ({ A_Const: { sval: { sval: s } } })
export const intConst = (i: number): Node => ({ A_Const: { ival: i === 0 ? {} : { ival: i } } })
export const nullConst = (): Node => ({ A_Const: { isnull: true } })
export const typeName = (name: string, array = false): Node => {
  const names = name.includes('.') ? name.split('.') : ['pg_catalog', name]
  return { names: names.map(str), typemod: -1, ...(array ? { arrayBounds: [{ Integer: { ival: -1 } }] } : {}) }
}
export const cast = (arg: Node, type: string, array = false): Node => ({ TypeCast: { arg, typeName: typeName(type, array) } })
export const param = (n: number): Node => ({ ParamRef: { number: n } })
export const func = (name: string, args: Node[], extra: Node = {}): Node => ({ FuncCall: { funcname: [str(name)], args, funcformat: 'COERCE_EXPLICIT_CALL', ...extra } })
export const resTarget = (val: Node, name?: string): Node => ({ ResTarget: { val, ...(name ? { name } : {}) } })
export const op = (name: string, l: Node, r: Node): Node => ({ A_Expr: { kind: 'AEXPR_OP', name: [str(name)], lexpr: l, rexpr: r } })

/** Function name (last part, lower case) of a FuncCall body. */
export function funcName(f: Node): string {
  const names = (f.funcname as Node[]).map((n) => (n.String as { sval?: string } | undefined)?.sval ?? '')
  return names[names.length - 1]!.toLowerCase()
}

/** The last part of a TypeName's name, as written (quoted names keep their case). */
export function lastTypeName(typeName: Node): string {
  const names = typeName.names as Node[]
  return (names[names.length - 1]!.String as { sval: string }).sval
}

export { catalogFunctionName } from '../../common/pg-ast.js'

/** Whether a tree (or a list of clauses) holds a subquery. */
export function containsSubLink(n: unknown): boolean {
  let found = false
  visit(n, (t) => {
    if (t === 'SubLink') found = true
    return !found
  })
  return found
}

/** The top-level AND terms of a WHERE clause. */
export function conjuncts(where: unknown): Node[] {
  if (!where) return []
  if (kind(where) === 'BoolExpr' && body(where).boolop === 'AND_EXPR') return (body(where).args as Node[]).flatMap(conjuncts)
  return [where as Node]
}

export function andOf(terms: readonly Node[]): Node | undefined {
  if (terms.length === 0) return undefined
  if (terms.length === 1) return terms[0]
  return { BoolExpr: { boolop: 'AND_EXPR', args: [...terms] } }
}

/**
 * Rebuilds a tree bottom-up: `fn` sees each wrapper node (`{ Type: {...} }`) and returns a
 * replacement, or undefined to keep it (with its children rewritten). The result shares no
 * object with the input, so it may be changed freely.
 */
export function rewrite(n: unknown, fn: (wrapper: Node) => Node | undefined): unknown {
  if (Array.isArray(n)) return n.map((x) => rewrite(x, fn))
  if (n === null || typeof n !== 'object') return n
  let keys = 0
  let first = ''
  for (const key in n as Node) if (keys++ === 0) first = key
  if (keys === 1 && isTypeName(first)) {
    const replaced = fn(n as Node)
    if (replaced) return replaced
  }
  const out: Node = {}
  for (const key in n as Node) out[key] = rewrite((n as Node)[key], fn)
  return out
}

/** SQL text of a SelectStmt body. */
export function deparseSelect(select: Node): string {
  return deparseSql({ stmts: [{ stmt: { SelectStmt: select } }] } as never)
}

export function deparseExpr(expr: Node): string {
  return deparseSql({ stmts: [{ stmt: { SelectStmt: { targetList: [resTarget(expr)], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } } }] } as never).replace(/^SELECT\s+/i, '')
}

/** Column names in a ColumnRef: ['a', 'host_name'] or ['host_name']; '*' for A_Star. */
export function refNames(f: Node): string[] {
  return (f.fields as Node[]).map((x) => (x.String as { sval: string } | undefined)?.sval ?? '*')
}

/**
 * The name a SELECT target goes by: its alias, or the name PostgreSQL gives it (FigureColname):
 * a column's name, a function's, a cast's operand's (else the type's), 'case', 'coalesce', ...
 * '?column?' when none. ORDER BY a bare name means this output column before any input column.
 */
export function outputName(target: Node): string {
  if (typeof target.name === 'string') return target.name
  return figure(target.val)[0] ?? '?column?'
}

/** [name, strength]: 2 for a column or function name, 1 for a type name or keyword, none for 0. */
function figure(n: unknown): [string | undefined, number] {
  const k = kind(n)
  const f = k ? body(n) : {}
  switch (k) {
    case 'ColumnRef': {
      const last = refNames(f).at(-1)
      return last && last !== '*' ? [last, 2] : [undefined, 0]
    }
    case 'A_Indirection': {
      // The last field name selected, if any (subscripts and * do not name).
      const fields = ((f.indirection as Node[] | undefined) ?? []).filter((i) => kind(i) === 'String')
      const s = fields.length ? (body(fields.at(-1)!).sval as string) : undefined
      return s ? [s, 2] : figure(f.arg)
    }
    case 'A_Expr':
      return f.kind === 'AEXPR_NULLIF' ? ['nullif', 2] : [undefined, 0]
    case 'FuncCall':
      return [((f.funcname as Node[]).at(-1)!.String as { sval: string }).sval, 2]
    case 'TypeCast': {
      const inner = figure(f.arg)
      if (inner[1] >= 2) return inner
      return [lastTypeName(f.typeName as Node), 1]
    }
    case 'CollateClause':
      return figure(f.arg)
    case 'CaseExpr':
      return ['case', 1]
    case 'CoalesceExpr':
      return ['coalesce', 2]
    case 'NullIfExpr':
      return ['nullif', 2]
    case 'MinMaxExpr':
      return [f.op === 'IS_GREATEST' ? 'greatest' : 'least', 2]
    case 'A_ArrayExpr':
      return ['array', 2]
    case 'RowExpr':
      return ['row', 2]
    case 'SubLink': {
      if (f.subLinkType === 'EXISTS_SUBLINK') return ['exists', 2]
      if (f.subLinkType === 'ARRAY_SUBLINK') return ['array', 2]
      if (f.subLinkType === 'EXPR_SUBLINK') {
        const sub = body(f.subselect)
        const t = (sub.targetList as Node[] | undefined)?.[0]
        return t ? [outputName(body(t)), 2] : [undefined, 0]
      }
      return [undefined, 0]
    }
    case 'SQLValueFunction':
      return [String(f.op ?? '').replace(/^SVFOP_/, '').replace(/_N$/, '').toLowerCase(), 2]
    default:
      return [undefined, 0]
  }
}
