/**
 * What the signal functions a statement evaluated do (backend-functions.ts), in the order it
 * evaluated them, as PostgreSQL's pg_signal_backend does (src/backend/storage/ipc/signalfuncs.c):
 * a pid that is no session of this gateway is a WARNING (the call answered false); another role's
 * session may not be signalled (42501, the statement fails there: calls before it have acted);
 * pg_terminate_backend refuses a negative timeout (22003). A cancel stops the session's running
 * statement with 57014, this one's included; a terminate ends the session's connection with 57P01,
 * this one's included (then nothing more is sent to it).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { Activities, Activity } from './activity.js'
import { notice } from './command-reply.js'

export interface SignalOutcome {
  /** WARNINGs for the client, before the statement's rows. */
  readonly notices: Buffer[]
  /** The statement fails with this (after the signals before it acted). */
  readonly error?: PgError
  /** This session's own connection is to end (after the statement's reply is dropped). */
  readonly terminateSelf?: PgError
}

const terminated = () => new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command', { severity: 'FATAL' })

const denied = (terminate: boolean) =>
  terminate
    ? new PgError(SqlState.InsufficientPrivilege, 'permission denied to terminate process', { detail: 'Only roles with privileges of the role whose process is being terminated or with privileges of the "pg_signal_backend" role may terminate this process.' })
    : new PgError(SqlState.InsufficientPrivilege, 'permission denied to cancel query', { detail: 'Only roles with privileges of the role whose query is being canceled or with privileges of the "pg_signal_backend" role may cancel this query.' })

/** Acts on the calls recorded in `recorded` (`c<pid>,` and `t<pid>:<timeout>,`, in evaluation order). */
export function applySignals(recorded: string, self: Activity, sessions: Activities): SignalOutcome {
  const notices: Buffer[] = []
  let cancelSelf = false
  for (const call of recorded.split(',')) {
    if (call === '') continue
    const terminate = call[0] === 't'
    const [pidText, timeoutText] = call.slice(1).split(':')
    const pid = Number(pidText)
    if (terminate && Number(timeoutText) < 0) return { notices, error: new PgError(SqlState.NumericValueOutOfRange, '"timeout" must not be negative') }
    const target = sessions.get(pid)
    if (!target) {
      notices.push(notice({ severity: 'WARNING', severityNonLocalized: 'WARNING', code: SqlState.Warning, message: `PID ${pidText} is not a PostgreSQL backend process` }))
      continue
    }
    if (target.activity.user !== self.user) return { notices, error: denied(terminate) }
    if (pid === self.pid) {
      if (terminate) return { notices, terminateSelf: terminated() }
      cancelSelf = true
      continue
    }
    if (terminate) target.signals.terminate(terminated())
    else target.signals.cancel()
  }
  return cancelSelf ? { notices, error: new PgError(SqlState.QueryCanceled, 'canceling statement due to user request') } : { notices }
}
