/** Writes a statement's execution to the client (RowDescription when asked, rows, tag). */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { Responder } from '../wire/responder.js'
import type { Session } from './session.js'
import type { Execution } from './statement-runner.js'

/**
 * Streams up to `maxRows` rows (0: all). Returns true when the result is complete (its
 * CommandComplete was sent), false when rows remain (a portal was suspended).
 */
export async function sendExecution(s: Session, ex: Execution, out: Responder, opts: { rowDescription: boolean; maxRows: number }): Promise<boolean> {
  if (ex.kind === 'command') {
    for (const n of ex.notices) out.frame(n)
    if (ex.tag) out.enc.commandComplete(ex.tag)
    s.relayParameterStatus(out, ex.parameterStatus)
    return true
  }
  const r = ex.result
  for (const n of r.notices) out.frame(n)
  if (opts.rowDescription) {
    if (r.rowDescription) out.frame(r.rowDescription)
  }
  let sent = 0
  for (;;) {
    if (opts.maxRows > 0 && sent >= opts.maxRows) return false
    if (s.signal.aborted) {
      r.close()
      throw s.signal.reason instanceof PgError ? s.signal.reason : new PgError(SqlState.QueryCanceled, 'canceling statement due to user request')
    }
    const row = await r.next()
    if (!row) break
    out.frame(row)
    sent++
    if ((sent & 255) === 0) await out.maybeFlush()
  }
  out.enc.commandComplete(r.tag())
  s.relayParameterStatus(out, ex.parameterStatus)
  return true
}
