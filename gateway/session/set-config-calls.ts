/**
 * set_config() in a query changes the session's setting only where PostgreSQL evaluates it: not
 * under `LIMIT 0` or `WHERE false`, nor in a CASE branch not taken. The gateway records what a
 * statement's calls did as SETs (settings.ts), so it must know which ran, and with which value.
 *
 * Each call with a constant parameter name is given a witness: its is_local argument becomes
 * `CASE WHEN set_config(<ran marker>, 'y', false) IS NOT NULL THEN is_local END`, which is
 * is_local, evaluated exactly when the call is. A transaction-local call's computed value is
 * gone when the engine's statement ends, so it also passes through a value marker:
 * `NULLIF(set_config(<value marker>, COALESCE(v, NUL), false), NUL)` is v, evaluated once. A
 * query after the statement, in the same exchange (no other session's statement between them),
 * reads the markers (and the non-local calls' parameters, as the engine now has them) and clears
 * them. The markers are custom settings under the gateway's own `fedgres.` prefix.
 */
import { catalogFunctionName } from '../../common/pg-ast.js'
import { quoteLiteral } from '../../common/sql-quote.js'
import { deparseSql } from '../../common/sql-deparse.js'
import { templateExpr } from './expr-template.js'
import { constString, walk, type AstNode, type ParsedStatement } from './sql-parse.js'

export interface SetConfigCall {
  /** Lower-case parameter name. */
  readonly name: string
  /** is_local, when a constant true. */
  readonly local: boolean
  /** The value, when a constant. */
  readonly value: string | undefined
  /** Whether the call has a witness (its is_local is a constant). */
  readonly witnessed: boolean
}

/** What a call did: its parameter's new value, for the rest of the session or of the transaction. */
export interface SetConfigEffect {
  readonly name: string
  readonly value: string
  readonly local: boolean
}

const ran = (i: number) => `fedgres.set_config_ran_${i}`
const valueOf = (i: number) => `fedgres.set_config_value_${i}`
/** Stands for a NULL value in a value marker (a setting's value cannot hold NUL... nor this). */
const NULL_VALUE = '\u0001fedgres-null'

/** `stmt` with its set_config() calls witnessed, and the calls; undefined if it has none with a constant name. */
export function witnessSetConfig(stmt: ParsedStatement): { stmt: ParsedStatement; calls: SetConfigCall[] } | undefined {
  const calls: SetConfigCall[] = []
  const node = structuredClone(stmt.node) as AstNode
  const found: AstNode[] = []
  walk(node, (type, f) => {
    if (type === 'FuncCall' && catalogFunctionName(f) === 'set_config') found.push(f)
  })
  for (const f of found) {
    const args = f.args as unknown[] | undefined
    const name = constString(args?.[0])
    if (!args || args.length !== 3 || name === undefined) continue
    const i = calls.length
    const isLocal = (args[2] as { A_Const?: { boolval?: { boolval?: boolean } } } | undefined)?.A_Const
    const local = isLocal?.boolval?.boolval === true
    const value = constString(args[1])
    calls.push({ name: name.toLowerCase(), local, value, witnessed: isLocal !== undefined })
    // A computed is_local keeps its place (its type decides the call's): the call counts as run.
    if (!isLocal) continue
    args[2] = templateExpr(`CASE WHEN pg_catalog.set_config(${quoteLiteral(ran(i))}, 'y', false) IS NOT NULL THEN fedgres_arg END`, args[2])
    if (local && value === undefined) {
      const nul = quoteLiteral(NULL_VALUE)
      args[1] = templateExpr(`NULLIF(pg_catalog.set_config(${quoteLiteral(valueOf(i))}, COALESCE(fedgres_arg, ${nul}), false), ${nul})`, args[1])
    }
  }
  if (calls.length === 0) return undefined
  return { stmt: { ...stmt, node, text: deparseSql({ stmts: [{ stmt: node }] } as never) }, calls }
}

/** The statement that reads what the calls did and clears the markers: one row, three columns per call. */
export function readBackSql(calls: readonly SetConfigCall[]): string {
  const cols = calls.flatMap((c, i) => [
    c.witnessed ? `pg_catalog.current_setting(${quoteLiteral(ran(i))}, true)` : "'y'",
    c.local ? `pg_catalog.current_setting(${quoteLiteral(valueOf(i))}, true)` : `pg_catalog.current_setting(${quoteLiteral(c.name)}, true)`,
    `pg_catalog.set_config(${quoteLiteral(ran(i))}, '', false)`,
  ])
  const clearValues = calls.flatMap((c, i) => (c.local && c.value === undefined ? [`pg_catalog.set_config(${quoteLiteral(valueOf(i))}, '', false)`] : []))
  return `SELECT ${[...cols, ...clearValues].join(', ')}`
}

/**
 * The effects of the calls that ran, in call order, from readBackSql's rows (one per exchange the
 * statement took: a call ran in the one whose row says so, the markers are cleared after each).
 */
export function effects(calls: readonly SetConfigCall[], rows: readonly (readonly (string | null)[])[]): SetConfigEffect[] {
  const out: SetConfigEffect[] = []
  calls.forEach((c, i) => {
    const row = rows.findLast((r) => r[i * 3] === 'y')
    if (!row) return
    const read = row[i * 3 + 1] ?? null
    const value = c.local ? (c.value ?? read) : read
    if (value === null || value === NULL_VALUE) return
    out.push({ name: c.name, value, local: c.local })
  })
  return out
}
