/**
 * idle_session_timeout and idle_in_transaction_session_timeout: PostgreSQL ends a session that
 * waits too long after ReadyForQuery, inside a transaction block past the latter (25P03),
 * outside one past the former (57P05). The gateway keeps both itself (settings.ts GATEWAY_ONLY).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { settingMs } from './setting-duration.js'
import type { SessionSettings } from './settings.js'

/** How long a session waiting in (`inBlock`) or out of a transaction block may wait, and the error that ends it; undefined: no limit. */
export function idleTimeout(settings: SessionSettings, inBlock: boolean): { ms: number; error: PgError } | undefined {
  const name = inBlock ? 'idle_in_transaction_session_timeout' : 'idle_session_timeout'
  const ms = settingMs(settings.ownValue(name)) ?? 0
  if (!(ms > 0)) return undefined
  return inBlock
    ? { ms, error: new PgError(SqlState.IdleInTransactionSessionTimeout, 'terminating connection due to idle-in-transaction timeout') }
    : { ms, error: new PgError(SqlState.IdleSessionTimeout, 'terminating connection due to idle-session timeout') }
}
