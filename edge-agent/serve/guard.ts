/**
 * What a gateway may run on an edge: one SELECT, read-only, that reads no server files and
 * leaves no state behind. The transaction around it is READ ONLY and rolled back as well; this
 * guard refuses early, with a clear error, what that would refuse late or not at all.
 */
import { parseSync } from 'libpg-query'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { visit } from '../../common/pg-ast.js'
import { unsafeConversion } from '../../common/encoding-conversion.js'

type Node = Record<string, unknown>

/**
 * Settings a gateway passes on: its client's output settings, and how prepared statements are
 * planned. In the startup packet, or with `set_config(name, value, true)`.
 */
export const LOCAL_SETTINGS = new Set(['timezone', 'datestyle', 'intervalstyle', 'extra_float_digits', 'bytea_output', 'search_path', 'work_mem', 'plan_cache_mode'])

/** Functions that read server files, run dynamic SQL, sleep or signal other backends. */
const DENIED_FUNCTION = /^(pg_read_|pg_ls_|pg_stat_file|lo_|pg_file|dblink|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|pg_sleep|pg_advisory|pg_notify|query_to_xml|query_to_xml_and_xmlschema|cursor_to_xml|table_to_xml|schema_to_xml|database_to_xml|pg_import_system_collations|binary_upgrade_|pg_log_backend_memory_contexts|pg_switch_wal|pg_create_)/

const refuse = (message: string) => new PgError(SqlState.InsufficientPrivilege, message, { hint: 'An edge answers single read-only SELECT statements from gateways.' })

/** Whether a statement that passed the guard reads the event tables (for the edge's counters). */
export function readsEvents(sql: string): boolean {
  return /\b(alerts|logs)\b/i.test(sql)
}

/** Returns the error to send for `sql`, or undefined when it may run. An empty string may run. */
export function checkEdgeStatement(sql: string): PgError | undefined {
  if (sql.trim() === '') return undefined
  let stmts: { stmt: Node }[]
  try {
    stmts = ((parseSync(sql) as { stmts?: { stmt: Node }[] }).stmts ?? [])
  } catch (e) {
    const d = (e as { sqlDetails?: { message?: string } }).sqlDetails
    return new PgError(SqlState.SyntaxError, d?.message ?? (e as Error).message)
  }
  if (stmts.length === 0) return undefined
  if (stmts.length > 1) return refuse('an edge runs one statement at a time')
  const type = Object.keys(stmts[0]!.stmt)[0]!
  if (type !== 'SelectStmt') return refuse(`an edge does not run ${type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()}`)
  let err: PgError | undefined = unsafeConversion(stmts[0]!.stmt)
  visit(stmts[0]!.stmt, (t, f) => {
    if (err) return
    if (t === 'InsertStmt' || t === 'UpdateStmt' || t === 'DeleteStmt' || t === 'MergeStmt') err = refuse('an edge does not run data-modifying statements')
    else if (t === 'SelectStmt' && f.intoClause) err = refuse('an edge does not run SELECT INTO')
    else if (t === 'SelectStmt' && Array.isArray(f.lockingClause) && f.lockingClause.length > 0) err = refuse('an edge does not take row locks')
    else if (t === 'FuncCall') err = checkCall(f)
  })
  return err
}

function checkCall(f: Node): PgError | undefined {
  const names = (f.funcname as { String?: { sval?: string } }[]).map((n) => n.String?.sval ?? '')
  const name = names[names.length - 1]!.toLowerCase()
  if (DENIED_FUNCTION.test(name)) return refuse(`function ${name} is not available on an edge`)
  if (name !== 'set_config') return undefined
  const args = (f.args as Node[] | undefined) ?? []
  const setting = (args[0] as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval?.sval?.toLowerCase()
  const local = (args[2] as { A_Const?: { boolval?: { boolval?: boolean } } } | undefined)?.A_Const?.boolval?.boolval === true
  if (!setting || !LOCAL_SETTINGS.has(setting) || !local) return refuse('an edge allows set_config only for output settings, transaction-local')
  return undefined
}
