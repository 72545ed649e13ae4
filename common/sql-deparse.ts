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
 * - CTE names were written bare (WITH "Foo" read as foo); x IS JSON and x IS DOCUMENT lost their
 *   parentheses as the others did; pretty mode indented string literals inside OVER (...).
 * - A node it cannot write is 0A000 even where it swallowed the error and wrote nothing
 *   (ROWS FROM (f(), JSON_VALUE(...)) came out as ROWS FROM (f())).
 */
import { Deparser, QuoteUtils } from 'pgsql-deparser'
import { PgError } from './errors/pg-error.js'
import { SqlState } from './errors/sqlstate.js'
import type * as t from '@pgsql/types'

type Context = Parameters<Deparser['SelectStmt']>[1]

type Data = Record<string, unknown>

/** Nodes whose operands it writes bare. */
const OPERATORS = new Set(['A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'JsonIsPredicate', 'SubLink', 'TypeCast', 'CollateClause', 'A_Indirection'])
/** Expressions that need parentheses as an operand. */
const COMPOUND = new Set(['A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'JsonIsPredicate', 'SubLink', 'CollateClause'])

/** Written as SQL syntax rather than a call: AT TIME ZONE, EXTRACT, ..., and x IS DOCUMENT. */
const sqlSyntax = (type: string, data: Data) => (type === 'FuncCall' && data.funcformat === 'COERCE_SQL_SYNTAX') || (type === 'XmlExpr' && data.op === 'IS_DOCUMENT')

/** Whether `child` (a node of `type`) is written in parentheses as an operand of `parent`. */
function needsParens(parent: { type: string; data: Data }, type: string, data: Data, child: unknown): boolean {
  if (parent.type === 'A_Indirection') return parent.data.arg === child && type !== 'ColumnRef' && type !== 'ParamRef'
  if (!OPERATORS.has(parent.type) && !sqlSyntax(parent.type, parent.data)) return false
  if (parent.type === 'SubLink' && parent.data.testexpr !== child) return false
  return COMPOUND.has(type) || sqlSyntax(type, data)
}

let marks = 0

/** Nodes it writes as SQL that does not parse: XMLTABLE (its clauses came out scrambled). */
const UNWRITABLE = new Set(['RangeTableFunc'])

/** A window's name and the name it refers to, quoted where they need it (it wrote them bare). */
function quotedWindow(w: t.WindowDef): t.WindowDef {
  const q = (n: string | undefined) => (n ? QuoteUtils.quoteIdentifier(n) : n)
  return { ...w, name: q(w.name), refname: q(w.refname) }
}

class FixedDeparser extends Deparser {
  readonly #parents: { type: string; data: Data }[] = []
  /** A node type it could not write, even where it swallowed the error and wrote nothing (ROWS FROM). */
  unhandled: string | undefined

  override TypeName(node: t.TypeName, context: Context): string {
    // Types whose bare keyword means something else: the one-byte "char" (char alone is
    // char(1)), and bit with no length (bit alone is bit(1)). It wrote '{1}'::"char"[] as a cast
    // to "char", pg_catalog."char" as char, and "bit" '101' as '101'::bit, which is '1'.
    const names = (node.names ?? []).map((n) => (n as { String?: { sval?: string } }).String?.sval)
    const type = names.at(-1)
    if ((type !== 'char' && type !== 'bit') || (names.length === 2 && names[0] !== 'pg_catalog') || names.length > 2 || node.setof || node.typmods) return super.TypeName(node, context)
    const bounds = (node.arrayBounds ?? []).map((b) => {
      const n = (b as { Integer?: { ival?: number } }).Integer?.ival
      return n !== undefined && n !== -1 ? `[${n}]` : '[]'
    })
    return `${names.length === 2 ? 'pg_catalog.' : ''}"${type}"${bounds.join('')}`
  }

  override NamedArgExpr(node: t.NamedArgExpr, context: Context): string {
    return super.NamedArgExpr(node.name ? { ...node, name: QuoteUtils.quoteIdentifier(node.name) } : node, context)
  }

  override WindowDef(node: t.WindowDef, context: Context): string {
    return super.WindowDef(quotedWindow(node), context)
  }

  override FuncCall(node: t.FuncCall, context: Context): string {
    // OVER "W" and OVER ("W" ORDER BY ...) are written by the call itself.
    return super.FuncCall(node.over ? { ...node, over: quotedWindow(node.over) } : node, context)
  }

  override XmlSerialize(node: t.XmlSerialize, context: Context): string {
    const out = super.XmlSerialize(node, context)
    return node.indent ? out.replace(/\)\s*$/, ' INDENT )') : out
  }

  override JoinExpr(node: t.JoinExpr, context: Context): string {
    const quoted = (a: t.Alias | undefined) => (a?.aliasname ? { ...a, aliasname: QuoteUtils.quoteIdentifier(a.aliasname) } : a)
    return super.JoinExpr({ ...node, alias: quoted(node.alias), join_using_alias: quoted(node.join_using_alias) }, context)
  }

  override CommonTableExpr(node: t.CommonTableExpr, context: Context): string {
    // It wrote the name bare: WITH "Foo" came out as WITH Foo, which is foo.
    return super.CommonTableExpr(node.ctename ? { ...node, ctename: QuoteUtils.quoteIdentifier(node.ctename) } : node, context)
  }

  override visit(node: t.Node, context?: Context): string {
    const type = node && typeof node === 'object' ? Object.keys(node)[0] : undefined
    if (!type) return super.visit(node, context)
    if (UNWRITABLE.has(type)) {
      this.unhandled ??= type
      throw new Error(`Deparser does not handle node type: ${type}`)
    }
    const data = (node as unknown as Record<string, Data>)[type]!
    const parent = this.#parents.at(-1)
    this.#parents.push({ type, data })
    let out: string
    try {
      out = super.visit(node, context)
    } catch (e) {
      if (/does not handle node type/.test((e as Error).message)) this.unhandled ??= type
      throw e
    } finally {
      this.#parents.pop()
    }
    return parent && out && needsParens(parent, type, data, node) ? `(${out})` : out
  }

  override SelectStmt(node: t.SelectStmt, context: Context): string {
    if (node.groupDistinct && node.groupClause) {
      // Written with a one-off name in place of the items, then the name replaced: it must occur once.
      const mark = `__fedgres_group_by_distinct_${(marks++).toString(36)}_${Math.random().toString(36).slice(2)}__`
      const items = node.groupClause.map((g) => this.visit(g, context)).join(', ')
      const marked = this.SelectStmt({ ...node, groupDistinct: false, groupClause: [{ ColumnRef: { fields: [{ String: { sval: mark } }] } }] }, context)
      if (marked.indexOf(mark) !== marked.lastIndexOf(mark)) throw new PgError(SqlState.FeatureNotSupported, 'GROUP BY DISTINCT is not supported by Fedgres here')
      return marked.replace(mark, `DISTINCT ${items}`)
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
  // Not pretty: its pretty mode indents the text of string literals inside OVER (...).
  const d = new FixedDeparser(tree as never, { pretty: false })
  let sql: string | undefined
  try {
    sql = d.deparseQuery()
  } catch (e) {
    if (!d.unhandled) throw e
  }
  if (d.unhandled || sql === undefined) {
    throw new PgError(SqlState.FeatureNotSupported, `${d.unhandled} is not supported by Fedgres`, { hint: 'Fedgres cannot write this construct into the statements it sends its edges. For jsonb, the -> and ->> operators and jsonb_path_query work.' })
  }
  return sql
}
