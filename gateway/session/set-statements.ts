/**
 * SET, RESET and SET LOCAL, SET ROLE / SESSION AUTHORIZATION, and set_config() in a query: each
 * is recorded in the session's settings as the SET that has its effect (settings.ts), after the
 * shadow checked the value, or by the gateway for the settings it keeps itself (GATEWAY_ONLY).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { deparseSql } from '../../common/sql-deparse.js'
import { quoteIdent, quoteLiteral } from '../../common/sql-quote.js'
import { clientEncodingError } from './client-encoding.js'
import { command, notice } from './command-reply.js'
import { FrameError } from './frame-error.js'
import { effects, type SetConfigCall } from './set-config-calls.js'
import { defaultOnlySetting } from './refusals.js'
import type { Session } from './session.js'
import { settingMs } from './setting-duration.js'
import { GATEWAY_ONLY } from './settings.js'
import { constString, type AstNode, type ParsedStatement } from './sql-parse.js'
import type { Execution } from './statement-runner.js'
import { setTransaction, transactionModes } from './transaction-statements.js'
import { warning } from './transaction.js'

export async function runSet(s: Session, stmt: ParsedStatement, f: AstNode): Promise<Execution> {
  const kind = String(f.kind)
  const name = String(f.name ?? '').toLowerCase()
  if (name === 'role' || name === 'session_authorization') return setIdentity(s, kind, name, f)
  if (kind === 'VAR_SET_MULTI' && name === 'transaction') return setTransaction(s, stmt, f)
  if (kind === 'VAR_RESET_ALL') {
    s.settings.resetAll()
    return command('RESET')
  }
  if (kind === 'VAR_SET_VALUE') {
    const refused = defaultOnlySetting(name, setValueOf(f))
    if (refused) throw refused
  }
  if (name === 'client_encoding' && kind === 'VAR_SET_VALUE') {
    const value = constString((f.args as unknown[] | undefined)?.[0])
    const bad = value === undefined ? undefined : clientEncodingError(value)
    if (bad) throw bad
  }
  // An extended-protocol batch outside a block is a transaction too: SET LOCAL holds in it (with PostgreSQL's warning).
  const inTxn = s.txn !== 'idle' || s.implicit === 'sync'
  const local = Boolean(f.is_local) && inTxn
  const outside = f.is_local && s.txn === 'idle' && inTxn ? [notice(warning('25P01', 'SET LOCAL can only be used in transaction blocks'))] : []
  if (GATEWAY_ONLY.has(name)) return setOwn(s, name, kind, f, local)
  // Run it on the shadow first: PostgreSQL validates the value and formats the warning or error.
  const sql = local ? deparseSql({ VariableSetStmt: { ...f, is_local: false } } as never) : stmt.text
  const out = await s.runner.simple(s.owner(), sql)
  if (out.error) throw new FrameError(out.error)
  s.defineSetting(name)
  // SET ... TO DEFAULT (and SET TIME ZONE LOCAL) is RESET: back to the startup value.
  if (kind === 'VAR_RESET' || (kind === 'VAR_SET_DEFAULT' && !f.is_local)) s.settings.reset(name)
  else if (f.is_local && !inTxn) {
    // SET LOCAL outside a block: PostgreSQL warned and changed nothing.
  } else if (kind === 'VAR_SET_DEFAULT' && s.settings.startupValue(name) !== undefined) {
    // SET LOCAL ... TO DEFAULT: the startup value, for the rest of the transaction.
    s.settings.set(name, `SELECT pg_catalog.set_config(${quoteLiteral(name)}, ${quoteLiteral(s.settings.startupValue(name)!)}, false)`, local)
  } else if (kind === 'VAR_SET_MULTI' && name === 'session characteristics') {
    // One setting per mode, so that RESET default_transaction_isolation undoes it.
    for (const [mode, value] of transactionModes(f, f.args)) if (mode) s.settings.set(`default_${mode}`, `SET default_${mode} = ${quoteLiteral(value)}`, local)
  } else s.settings.set(name || kind, sql, local)
  return command(out.result?.tag() || (kind === 'VAR_RESET' ? 'RESET' : 'SET'), [...outside, ...(out.result?.notices ?? [])], out.parameterStatus)
}

/** SET of a setting the gateway keeps to itself (settings.ts GATEWAY_ONLY), checked as PostgreSQL checks a time. */
function setOwn(s: Session, name: string, kind: string, f: AstNode, local: boolean): Execution {
  if (kind === 'VAR_RESET' || kind === 'VAR_SET_DEFAULT') {
    s.settings.reset(name)
    return command(kind === 'VAR_RESET' ? 'RESET' : 'SET')
  }
  const value = setValueOf(f)
  if (value === undefined || settingMs(value) === undefined || settingMs(value)! > 2147483647) {
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "${name}": "${value ?? ''}"`, { hint: 'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".' })
  }
  const refused = defaultOnlySetting(name, value)
  if (refused) throw refused
  if (f.is_local && s.txn === 'idle') return command('SET', [notice(warning('25P01', 'SET LOCAL can only be used in transaction blocks'))])
  s.settings.set(name, `SET ${name} = ${quoteLiteral(value)}`, local, value)
  return command('SET')
}

/** SET ROLE / SESSION AUTHORIZATION: only to oneself, so the session never changes identity. */
function setIdentity(s: Session, kind: string, name: string, f: AstNode): Execution {
  const target = constString((f.args as unknown[] | undefined)?.[0])
  const self = s.ctx.user
  if (kind === 'VAR_RESET' || kind === 'VAR_SET_DEFAULT' || target === undefined || target === self || (name === 'role' && target === 'none')) {
    return command(kind === 'VAR_RESET' ? 'RESET' : 'SET')
  }
  const what = name === 'role' ? 'role' : 'session authorization'
  throw new PgError(SqlState.InsufficientPrivilege, `permission denied to set ${what} "${target}"`)
}

/** The constant a SET gives (a string, a number or a boolean, as text); undefined for a list or anything else. */
function setValueOf(f: AstNode): string | undefined {
  const arg = (f.args as AstNode[] | undefined)?.[0]?.A_Const as AstNode | undefined
  if (typeof arg?.sval === 'object') return (arg.sval as { sval?: string }).sval
  if (arg?.ival !== undefined) return String((arg.ival as { ival?: number }).ival ?? 0)
  if (arg?.boolval !== undefined) return String(Boolean((arg.boolval as { boolval?: boolean }).boolval))
  return undefined
}

/**
 * set_config() in a query changed settings on the shadow: record what the calls that ran did
 * (set-config-calls.ts: read in the statement's own exchanges) as the SETs that have the same effect.
 */
export function captureSetConfig(s: Session, calls: readonly SetConfigCall[], readBacks: readonly (readonly (string | null)[])[]): void {
  for (const e of effects(calls, readBacks)) {
    s.defineSetting(e.name)
    if (e.local && s.txn === 'idle' && s.implicit !== 'sync') continue // like SET LOCAL outside a block: no lasting effect
    s.settings.set(e.name, `SET ${quoteIdent(e.name)} = ${quoteLiteral(e.value)}`, e.local)
  }
}
