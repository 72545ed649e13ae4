/**
 * The gateway's own expression wrapped around a client's: SQL with a hole, the column reference
 * `fedgres_arg`, filled with the client's expression tree (a copy at each place the hole is).
 * Used where a statement is rewritten before the gateway's engine runs it (placeholders.ts,
 * set-config-calls.ts).
 */
import { rewrite, type Node } from '../plan/ast.js'
import { parseStatements, type AstNode } from './sql-parse.js'

const isHole = (w: Node) => {
  const fields = (w.ColumnRef as AstNode | undefined)?.fields as AstNode[] | undefined
  return fields?.length === 1 && (fields[0]!.String as { sval?: string } | undefined)?.sval === 'fedgres_arg'
}

/** The expression `sql` (with `fedgres_arg` for the hole), its hole filled with `arg`. */
export function templateExpr(sql: string, arg: unknown): AstNode {
  const [s] = parseStatements(`SELECT ${sql}`)
  const tpl = (((s!.node.SelectStmt as AstNode).targetList as AstNode[])[0]!.ResTarget as AstNode).val
  return rewrite(tpl, (w) => (isHole(w) ? (structuredClone(arg) as Node) : undefined)) as AstNode
}
