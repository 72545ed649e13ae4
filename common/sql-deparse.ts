/**
 * SQL text from a libpg-query parse tree: pgsql-deparser, with what it gets wrong put right.
 * Everything the gateway deparses (statements for the edges, the gather tier's local statement,
 * rewritten session statements) goes through here.
 *
 * - `FETCH FIRST n ROWS WITH TIES`: pgsql-deparser 18.3 writes it as `LIMIT n`, which drops the
 *   rows tied with the last one.
 * - Parentheses: it writes an operand as bare text, so `(a OR b) IS NULL` came out as
 *   `a OR b IS NULL`, `x AT TIME ZONE ('Europe/' || c)` as `x AT TIME ZONE 'Europe/' || c`, and
 *   `(ARRAY[a, b])[2]` as a syntax error. Every compound operand of an operator, a test, a cast,
 *   a subscript or an SQL-syntax function (AT TIME ZONE, EXTRACT, ...) is now parenthesized.
 * - `GROUP BY DISTINCT`: it dropped DISTINCT.
 */
import { Deparser } from 'pgsql-deparser'
import { PgError } from './errors/pg-error.js'
import { SqlState } from './errors/sqlstate.js'
import type * as t from '@pgsql/types'

type Context = Parameters<Deparser['SelectStmt']>[1]

type Data = Record<string, unknown>

/** Nodes whose operands it writes bare. */
const OPERATORS = new Set(['A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'SubLink', 'TypeCast', 'CollateClause', 'A_Indirection'])
/** Expressions that need parentheses as an operand. */
const COMPOUND = new Set(['A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'SubLink', 'CollateClause'])

const sqlSyntax = (type: string, data: Data) => type === 'FuncCall' && data.funcformat === 'COERCE_SQL_SYNTAX'

/** Whether `child` (a node of `type`) is written in parentheses as an operand of `parent`. */
function needsParens(parent: { type: string; data: Data }, type: string, data: Data, child: unknown): boolean {
  if (parent.type === 'A_Indirection') return parent.data.arg === child && type !== 'ColumnRef' && type !== 'ParamRef'
  if (!OPERATORS.has(parent.type) && !sqlSyntax(parent.type, parent.data)) return false
  if (parent.type === 'SubLink' && parent.data.testexpr !== child) return false
  return COMPOUND.has(type) || sqlSyntax(type, data)
}

/** Stands for GROUP BY DISTINCT's items while the rest is written. */
const GROUP_DISTINCT_MARK = '__fedgres_group_by_distinct__'

class FixedDeparser extends Deparser {
  readonly #parents: { type: string; data: Data }[] = []

  override visit(node: t.Node, context?: Context): string {
    const type = node && typeof node === 'object' ? Object.keys(node)[0] : undefined
    if (!type) return super.visit(node, context)
    const data = (node as unknown as Record<string, Data>)[type]!
    const parent = this.#parents.at(-1)
    this.#parents.push({ type, data })
    let out: string
    try {
      out = super.visit(node, context)
    } finally {
      this.#parents.pop()
    }
    return parent && out && needsParens(parent, type, data, node) ? `(${out})` : out
  }

  override SelectStmt(node: t.SelectStmt, context: Context): string {
    if (node.groupDistinct && node.groupClause) {
      const items = node.groupClause.map((g) => this.visit(g, context)).join(', ')
      const marked = this.SelectStmt({ ...node, groupDistinct: false, groupClause: [{ ColumnRef: { fields: [{ String: { sval: GROUP_DISTINCT_MARK } }] } }] }, context)
      return marked.replace(GROUP_DISTINCT_MARK, `DISTINCT ${items}`)
    }
    if (node.limitOption !== 'LIMIT_OPTION_WITH_TIES' || !node.limitCount) return super.SelectStmt(node, context)
    const { limitCount, limitOffset, lockingClause, ...rest } = node
    // The locking clause comes after FETCH; a read-only gateway refuses it before deparsing anyway.
    if (lockingClause) return super.SelectStmt(node, context)
    const head = super.SelectStmt({ ...rest, limitOption: 'LIMIT_OPTION_DEFAULT' }, context)
    const offset = limitOffset ? ` OFFSET (${this.visit(limitOffset, context)}) ROWS` : ''
    return `${head}${offset} FETCH FIRST (${this.visit(limitCount, context)}) ROWS WITH TIES`
  }
}

/** SQL text of `tree`; a construct the deparser cannot write (SQL/JSON query functions, JSON_TABLE) is 0A000. */
export function deparseSql(tree: unknown): string {
  try {
    return new FixedDeparser(tree as never).deparseQuery()
  } catch (e) {
    const unhandled = /does not handle node type: (\w+)/.exec((e as Error).message)
    if (!unhandled) throw e
    throw new PgError(SqlState.FeatureNotSupported, `${unhandled[1]} is not supported by Fedgres`, { hint: 'Fedgres cannot write this construct into the statements it sends its edges. For jsonb, the -> and ->> operators and jsonb_path_query work.' })
  }
}
