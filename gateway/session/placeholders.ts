/**
 * Custom settings (a name with a dot: `myapp.tenant`) are placeholders to PostgreSQL: a backend
 * knows one once a statement of its session SET, RESET or set_config()'d it, and never forgets it
 * (RESET, ROLLBACK and the end of SET LOCAL leave it at ''). Another backend does not know it:
 * there `current_setting(name, true)` is NULL, `current_setting(name)` and `SHOW name` fail with
 * 42704, and `pg_settings_get_flags(name)` is NULL.
 *
 * The gateway's sessions share one engine, which knows every placeholder any session defined.
 * For a session that has not defined one, a read that names it by a constant is given instead a
 * name no session can define (MARKER before it makes it an invalid parameter name): the engine
 * reads that as absent, with PostgreSQL's own semantics (only where evaluated, strict, the same
 * column name), and the marker is removed from the error message that names it. A SHOW of it is
 * answered with PostgreSQL's error. A computed name gets the marker when it names one of them
 * (a CASE around it, which evaluates it again: refused if it calls a function). A read of a
 * placeholder the same statement defines cannot be followed (evaluation order decides): while the
 * session has placeholders to hide, those are refused (0A000) rather than answered with ''.
 */
import { PgError, RemotePgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { catalogFunctionName } from '../../common/pg-ast.js'
import { BackendEncoder, decodeBackendMessage } from '../../common/pgwire/index.js'
import { deparseSql } from '../../common/sql-deparse.js'
import { templateExpr } from './expr-template.js'
import { FrameError } from './frame-error.js'
import { walk, type AstNode, type ParsedStatement } from './sql-parse.js'
import { quoteLiteral } from '../../common/sql-quote.js'

/** A custom (placeholder) setting's name: PostgreSQL's own parameters have no dot. */
export const isCustomSetting = (name: string): boolean => name.includes('.')

const MARKER = 'fedgres-undefined:'
/** Functions that read a setting named by their first argument. */
const READERS = new Set(['current_setting', 'pg_settings_get_flags'])
/** A cheap test before the walk: statements that cannot read a setting by name are most. */
const READER_WORDS = /current_setting|pg_settings_get_flags/i

/** The string constant of a function argument ('x' or 'x'::text), as the node that holds it. */
function constArg(n: unknown): { sval: string } | undefined {
  const node = n as AstNode | undefined
  const cast = node?.TypeCast as AstNode | undefined
  const c = ((cast ? (cast.arg as AstNode | undefined) : node)?.A_Const as AstNode | undefined)?.sval as { sval?: string } | undefined
  return typeof c?.sval === 'string' ? (c as { sval: string }) : undefined
}

const refusal = (what: string) =>
  new PgError(SqlState.FeatureNotSupported, `${what} is not supported by Fedgres while other sessions have custom settings this session has not set`, {
    hint: 'Name the setting with a literal, or SET it in this session first.',
  })

/** The custom settings the engine may know that a session has not defined (lower-case names). */
export interface Undefined {
  has(name: string): boolean
  list(): readonly string[]
}

/** The settings of `all` a session has not defined (`own`); undefined if it has defined them all. */
export function undefinedIn(all: ReadonlySet<string>, own: (name: string) => boolean): Undefined | undefined {
  for (const n of all) {
    if (own(n)) continue
    return { has: (name) => all.has(name) && !own(name), list: () => [...all].filter((name) => !own(name)) }
  }
  return undefined
}

/** Whether an expression may give another value when evaluated again (a function call, a subquery). */
function mayVary(n: unknown): boolean {
  let varies = false
  walk(n, (type) => {
    if (type === 'FuncCall' || type === 'SubLink') varies = true
  })
  return varies
}

/**
 * A computed name `e`, read as absent if it names one of `names` (`e` is evaluated again, so it
 * must not vary): CASE WHEN lower(e) = ANY(names) THEN MARKER || e ELSE e END.
 */
function guarded(e: unknown, names: readonly string[]): unknown {
  const list = names.length === 0 ? "ARRAY[]::text[]" : `ARRAY[${names.map(quoteLiteral).join(', ')}]::text[]`
  return templateExpr(`CASE WHEN pg_catalog.lower(fedgres_arg) OPERATOR(pg_catalog.=) ANY (${list}) THEN ${quoteLiteral(MARKER)} OPERATOR(pg_catalog.||) fedgres_arg ELSE fedgres_arg END`, e)
}

/**
 * `stmt` as it must run for a session with `hidden` custom settings: undefined when it runs as it
 * is, an error when PostgreSQL's answer is an error (SHOW) or cannot be given (0A000).
 */
export function hideUndefined(stmt: ParsedStatement, hidden: Undefined): ParsedStatement | PgError | undefined {
  if (stmt.type === 'VariableShowStmt') {
    const name = String((stmt.node.VariableShowStmt as AstNode).name ?? '')
    return isCustomSetting(name) && hidden.has(name.toLowerCase()) ? new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name}"`) : undefined
  }
  if (!READER_WORDS.test(stmt.text)) return undefined
  const setHere = new Set<string>()
  let reads = false
  walk(stmt.node, (type, f) => {
    if (type !== 'FuncCall') return
    const fn = catalogFunctionName(f)
    if (fn === 'set_config') {
      const name = constArg((f.args as unknown[] | undefined)?.[0])?.sval
      if (name !== undefined) setHere.add(name.toLowerCase())
    } else if (fn !== undefined && READERS.has(fn)) reads = true
  })
  if (!reads) return undefined
  let error: PgError | undefined
  const node = structuredClone(stmt.node) as AstNode
  let changed = false
  walk(node, (type, f) => {
    if (type !== 'FuncCall' || error) return
    const fn = catalogFunctionName(f)
    const args = f.args as unknown[] | undefined
    if (fn === undefined || !READERS.has(fn) || !args?.length) return
    const c = constArg(args[0])
    if (!c) {
      const names = hidden.list().filter((n) => !setHere.has(n))
      if (setHere.size > 0 || mayVary(args[0])) error = refusal(`${fn} of a computed setting name${setHere.size > 0 ? ' beside set_config()' : ' that calls a function'}`)
      else if (names.length > 0) {
        args[0] = guarded(args[0], names)
        changed = true
      }
      return
    }
    const name = c.sval.toLowerCase()
    if (!hidden.has(name)) return
    if (setHere.has(name)) error = refusal(`Reading and setting ${c.sval} in one statement`)
    else {
      c.sval = MARKER + c.sval
      changed = true
    }
  })
  if (error) return error
  if (!changed) return undefined
  return { ...stmt, node, text: deparseSql({ stmts: [{ stmt: node }] } as never) }
}

/** The error as PostgreSQL words it: the name a rewritten read named, without the marker. */
export function unmarkedError(e: unknown): unknown {
  if (!(e instanceof PgError) || e.code !== SqlState.UndefinedObject || !e.message.includes(`"${MARKER}`)) return e
  const message = e.message.replace(`"${MARKER}`, '"')
  if (e instanceof FrameError) {
    const m = decodeBackendMessage(e.frame)
    if (m.type !== 'ErrorResponse') return e
    return new FrameError(new BackendEncoder().errorResponse({ ...m.fields, message }).take())
  }
  if (e instanceof RemotePgError) return new RemotePgError({ ...e.fields, message })
  return new PgError(e.code, message, { severity: e.severity, detail: e.detail, hint: e.hint, position: e.position, source: e.source })
}
