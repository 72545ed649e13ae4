/**
 * The functions and view that speak of server processes, answered for the gateway's own client
 * sessions (activity.ts) rather than for the engine the gateway evaluates them in, whose single
 * backend every session shares:
 * - `pg_backend_pid()` is the process ID BackendKeyData gave this client (what libpq's
 *   PQbackendPID, pgjdbc's getBackendPID and psycopg's get_backend_pid report);
 * - `pg_stat_activity` lists the gateway's sessions, with PostgreSQL's visibility: a session of
 *   another role shows its database, pid, role and application, and `<insufficient privilege>`
 *   for its query, the rest NULL (no gateway role has pg_read_all_stats);
 * - `pg_cancel_backend(pid)` and `pg_terminate_backend(pid [, timeout])` cancel a session's
 *   statement or end its connection, as PostgreSQL signals a backend (signals.ts).
 * The two signal functions go to the engine's overloads of the same names (shadow-image.ts)
 * given the live process IDs: an overload answers whether the pid is live and records the call in
 * the setting SIGNALS_SETTING, read back in the statement's own exchange, so each call acts exactly
 * when PostgreSQL evaluates it.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { deparseSql } from '../../common/sql-deparse.js'
import { quoteLiteral } from '../../common/sql-quote.js'
import { SIGNALS_SETTING } from '../catalog/shadow-image.js'
import { catalogFunctionName, func, intConst, kind, rewrite, type Node } from '../plan/ast.js'
import type { Activity } from './activity.js'
import { parseStatements, walk, type AstNode, type ParsedStatement } from './sql-parse.js'
import { utf8Prefix } from '../../common/utf8.js'
import { templateExpr } from './expr-template.js'

/** The statement that reads the calls a statement made, and clears them. */
export const SIGNALS_READ_BACK = `SELECT pg_catalog.current_setting('${SIGNALS_SETTING}', true), pg_catalog.set_config('${SIGNALS_SETTING}', '', false)`

const WORDS = /pg_backend_pid|pg_stat_activity|pg_cancel_backend|pg_terminate_backend/i
const SIGNAL_FUNCTIONS = new Set(['pg_cancel_backend', 'pg_terminate_backend'])

/**
 * pg_stat_activity's columns in PostgreSQL 18, in order, each as the subquery computes it: from
 * the VALUES list `v` of the sessions' own values (text; cast here), the database `d`, the role
 * `r`, or a constant.
 */
const COLUMNS: readonly (readonly [string, string])[] = [
  ['datid', 'd.oid'], ['datname', 'd.datname'], ['pid', 'v.pid::integer'], ['leader_pid', 'NULL::integer'], ['usesysid', 'r.oid'],
  ['usename', 'v.usename::name'], ['application_name', 'v.application_name'], ['client_addr', 'v.client_addr::inet'], ['client_hostname', 'NULL::text'],
  ['client_port', 'v.client_port::integer'], ['backend_start', 'v.backend_start::timestamptz'], ['xact_start', 'v.xact_start::timestamptz'],
  ['query_start', 'v.query_start::timestamptz'], ['state_change', 'v.state_change::timestamptz'], ['wait_event_type', 'v.wait_event_type'],
  ['wait_event', 'v.wait_event'], ['state', 'v.state'], ['backend_xid', 'NULL::xid'], ['backend_xmin', 'NULL::xid'], ['query_id', 'NULL::bigint'],
  ['query', 'v.query'], ['backend_type', 'v.backend_type'],
]
/** The VALUES list's columns, all text. */
const VALUE_COLUMNS = ['pid', 'usename', 'application_name', 'client_addr', 'client_port', 'backend_start', 'xact_start', 'query_start', 'state_change', 'wait_event_type', 'wait_event', 'state', 'query', 'backend_type'] as const

export interface BackendContext {
  readonly self: Activity
  readonly sessions: readonly Activity[]
}

/**
 * PostgreSQL keeps the first track_activity_query_size - 1 bytes of a query (1024 by default, a
 * server setting), cut at a character boundary.
 */
const QUERY_BYTES = 1023
const clipped = (query: string) => (Buffer.byteLength(query) <= QUERY_BYTES ? query : utf8Prefix(Buffer.from(query, 'utf8'), QUERY_BYTES).toString('utf8'))

const lit = (v: string | number | null) => (v === null ? 'NULL' : quoteLiteral(String(v)))
const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** One session's VALUES row: all of it for the viewer's own role, the public part otherwise. */
function activityRow(a: Activity, viewer: string): string {
  const mine = a.user === viewer
  const values: Partial<Record<(typeof VALUE_COLUMNS)[number], string | number | null>> = {
    pid: a.pid,
    usename: a.user,
    application_name: a.applicationName,
    query: mine ? clipped(a.query) : '<insufficient privilege>',
  }
  if (mine) {
    Object.assign(values, {
      client_addr: a.clientAddr, client_port: a.clientPort, backend_start: time(a.backendStart), xact_start: time(a.xactStart),
      query_start: time(a.queryStart), state_change: time(a.stateChange), state: a.state, backend_type: 'client backend',
    })
    // Waiting for its client, as a PostgreSQL backend between statements shows it.
    if (a.state !== 'active') Object.assign(values, { wait_event_type: 'Client', wait_event: 'ClientRead' })
  }
  return `(${VALUE_COLUMNS.map((c) => lit(values[c] ?? null)).join(', ')})`
}

/** pg_stat_activity as a subquery of the gateway's sessions (one scan of the catalogs, not one per session). */
function activitySubquery(ctx: BackendContext): Node {
  const rows = ctx.sessions.map((a) => activityRow(a, ctx.self.user)).join(', ')
  const [s] = parseStatements(
    `SELECT ${COLUMNS.map(([c, e]) => `${e} AS ${c}`).join(', ')} FROM (VALUES ${rows}) AS v(${VALUE_COLUMNS.join(', ')})` +
      ` CROSS JOIN (SELECT oid, datname FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) AS d` +
      ` LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname OPERATOR(pg_catalog.=) v.usename::name`,
  )
  return s!.node
}

const liveArray = (ctx: BackendContext): Node => templateExpr(`ARRAY[${ctx.sessions.map((a) => a.pid).join(', ')}]::pg_catalog.int4[]`, null) as Node

const isRelation = (rv: AstNode, name: string) => rv.relname === name && (rv.schemaname === undefined || rv.schemaname === 'pg_catalog') && rv.catalogname === undefined

/**
 * `stmt` with the process functions and view answered for the gateway's sessions; undefined when
 * it uses none. `signals` says whether it calls a signal function (read SIGNALS_READ_BACK after).
 */
export function withBackendFunctions(stmt: ParsedStatement, context: () => BackendContext): { stmt: ParsedStatement; signals: boolean } | PgError | undefined {
  if (!WORDS.test(stmt.text)) return undefined
  const ctx = context()
  const node = structuredClone(stmt.node) as AstNode
  let changed = false
  let signals = false
  let refused: PgError | undefined
  // A target that is the bare call keeps the call's name as its column's.
  walk(node, (type, f) => {
    if (type === 'ResTarget' && f.name === undefined && kind(f.val) === 'FuncCall' && catalogFunctionName((f.val as Node).FuncCall as AstNode) === 'pg_backend_pid') f.name = 'pg_backend_pid'
    if (type === 'RangeFunction' && JSON.stringify(f.functions).includes('"pg_backend_pid"')) refused ??= new PgError(SqlState.FeatureNotSupported, 'pg_backend_pid() in FROM is not supported by Fedgres', { hint: 'Use SELECT pg_backend_pid().' })
  })
  if (refused) return refused
  const fn = (w: Node): Node | undefined => {
    const k = kind(w)
    if (k === 'RangeVar' && isRelation(w.RangeVar as AstNode, 'pg_stat_activity')) {
      changed = true
      const rv = w.RangeVar as AstNode
      const alias = (rv.alias as AstNode | undefined) ?? { aliasname: 'pg_stat_activity' }
      return { RangeSubselect: { subquery: activitySubquery(ctx), alias } }
    }
    if (k !== 'FuncCall') return undefined
    const f = w.FuncCall as AstNode
    const name = catalogFunctionName(f)
    const args = (f.args as Node[] | undefined) ?? []
    if (name === 'pg_backend_pid' && args.length === 0) {
      changed = true
      return intConst(ctx.self.pid)
    }
    if (name && SIGNAL_FUNCTIONS.has(name) && !f.agg_star && !f.over) {
      changed = signals = true
      return func(name, [liveArray(ctx), ...(rewrite(args, fn) as Node[])], { funcname: [{ String: { sval: 'pg_catalog' } }, { String: { sval: name } }] })
    }
    return undefined
  }
  const out = rewrite(node, fn) as AstNode
  if (!changed) return undefined
  return { stmt: { ...stmt, node: out, text: deparseSql({ stmts: [{ stmt: out }] } as never) }, signals }
}
