/**
 * Functions whose value belongs to the client's session, not to the server that evaluates them.
 * Sent to an edge, `current_user` would name the gateway's login there and `current_database()`
 * the edge's store. The identity functions are replaced by the session's values before a
 * statement leaves the gateway; the others are evaluated only by the gateway's own engine, so a
 * statement that uses one runs in the gather tier, where they are never sent to an edge.
 */
import { cast, catalogFunctionName, kind, nullConst, rewrite, textConst, visit, type Node } from './ast.js'

/** The session's identity, as the gateway's own engine reports it for this client. */
export interface SessionValues {
  /** current_user; session_user too, since a client never changes identity. */
  readonly currentUser: string
  readonly database: string
  readonly version: string
  /** current_schema(): null when no schema of the search_path exists. */
  readonly schema: string | null
  /** current_schemas(true) and current_schemas(false), as name[] literals. */
  readonly schemas: { readonly implicit: string; readonly explicit: string }
}

/** Functions only the gateway's engine may evaluate (what they read is the session's). */
const SHADOW_ONLY = new Set([
  'current_setting', 'set_config', 'pg_backend_pid', 'inet_client_addr', 'inet_client_port', 'inet_server_addr', 'inet_server_port',
  'pg_postmaster_start_time', 'pg_conf_load_time', 'pg_has_role', 'txid_current', 'txid_current_if_assigned', 'txid_current_snapshot',
  'pg_current_xact_id', 'pg_current_xact_id_if_assigned', 'pg_current_snapshot', 'pg_my_temp_schema', 'pg_trigger_depth', 'current_query',
  'pg_current_logfile', 'pg_jit_available', 'row_security_active', 'pg_is_in_recovery', 'pg_export_snapshot',
  // The signal functions act on the gateway's sessions (session/backend-functions.ts).
  'pg_cancel_backend', 'pg_terminate_backend',
])

const IDENTITY_FUNCTIONS = new Set(['current_database', 'current_schema', 'current_schemas', 'version'])

const IDENTITY_OPS = new Set(['SVFOP_CURRENT_ROLE', 'SVFOP_CURRENT_USER', 'SVFOP_USER', 'SVFOP_SESSION_USER', 'SVFOP_CURRENT_CATALOG', 'SVFOP_CURRENT_SCHEMA'])

/** current_schemas(true) or (false): the argument a constant, so the call can be replaced. */
const constBool = (f: Node) => {
  const args = (f.args as Node[] | undefined) ?? []
  return args.length === 1 ? ((args[0]!.A_Const as Node | undefined)?.boolval as { boolval?: boolean } | undefined) : undefined
}

const isShadowOnly = (f: Node) => {
  const name = catalogFunctionName(f)
  if (name === 'current_schemas') return constBool(f) === undefined
  return name !== undefined && (SHADOW_ONLY.has(name) || /^has_.*_privilege$/.test(name))
}

/** Whether `n` calls a function only the gateway's engine may evaluate. */
export function readsShadowOnly(n: unknown): boolean {
  let found = false
  visit(n, (t, f) => {
    if (t === 'FuncCall' && isShadowOnly(f)) found = true
  })
  return found
}

/** Whether `n` uses the session's identity (current_user, current_database(), version(), ...). */
export function readsIdentity(n: unknown): boolean {
  let found = false
  visit(n, (t, f) => {
    if (t === 'SQLValueFunction' && IDENTITY_OPS.has(f.op as string)) found = true
    if (t === 'FuncCall' && IDENTITY_FUNCTIONS.has(catalogFunctionName(f) ?? '')) found = true
  })
  return found
}

/** `select` with the identity functions replaced by the session's values, typed as PostgreSQL types them. */
export function fixIdentity(select: Node, v: SessionValues, onFix: () => void): Node {
  const value = (text: string | null, type: string, array = false): Node => {
    onFix()
    return cast(text === null ? nullConst() : textConst(text), type, array)
  }
  return rewrite(select, (w) => {
    const k = kind(w)
    if (k === 'SQLValueFunction') {
      switch ((w.SQLValueFunction as Node).op) {
        case 'SVFOP_CURRENT_ROLE':
        case 'SVFOP_CURRENT_USER':
        case 'SVFOP_USER':
        case 'SVFOP_SESSION_USER':
          return value(v.currentUser, 'name')
        case 'SVFOP_CURRENT_CATALOG':
          return value(v.database, 'name')
        case 'SVFOP_CURRENT_SCHEMA':
          return value(v.schema, 'name')
      }
      return undefined
    }
    if (k !== 'FuncCall') return undefined
    const f = w.FuncCall as Node
    const args = (f.args as Node[] | undefined) ?? []
    switch (catalogFunctionName(f)) {
      case 'current_database':
        return args.length === 0 ? value(v.database, 'name') : undefined
      case 'current_schema':
        return args.length === 0 ? value(v.schema, 'name') : undefined
      case 'version':
        return args.length === 0 ? value(v.version, 'text') : undefined
      case 'current_schemas': {
        const b = constBool(f)
        if (b === undefined) return undefined // a computed argument: the gather tier's (isShadowOnly)
        return value(b.boolval ? v.schemas.implicit : v.schemas.explicit, 'name', true)
      }
    }
    return undefined
  }) as Node
}
