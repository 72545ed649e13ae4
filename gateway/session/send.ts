/** Writes a statement's execution to the client (RowDescription when asked, rows, tag). */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { Responder } from '../../common/pgwire/server/responder.js'
import type { Session } from './session.js'
import type { Execution } from './statement-runner.js'

/**
 * Streams up to `maxRows` rows (0: all). `complete` is true when the result ended (its
 * CommandComplete was sent), false when rows remain (a portal was suspended).
 */
export interface SendOptions {
  readonly rowDescription: boolean
  readonly maxRows: number
  /** Rewrites the tag given the rows sent by this call (for a resumed portal). */
  readonly tag?: (tag: string, sent: number) => string
}

export async function sendExecution(s: Session, ex: Execution, out: Responder, opts: SendOptions): Promise<{ complete: boolean; sent: number }> {
  if (ex.kind === 'command') {
    for (const n of ex.notices) out.frame(n)
    if (ex.tag) out.enc.commandComplete(ex.tag)
    return { complete: true, sent: 0 }
  }
  const r = ex.result
  for (const n of r.notices) out.frame(n)
  if (opts.rowDescription) {
    if (r.rowDescription) out.frame(r.rowDescription)
  }
  let sent = 0
  for (;;) {
    if (opts.maxRows > 0 && sent >= opts.maxRows) return { complete: false, sent }
    if (s.signal.aborted) {
      r.close()
      throw s.signal.reason instanceof PgError ? s.signal.reason : new PgError(SqlState.QueryCanceled, 'canceling statement due to user request')
    }
    let row = r.take()
    if (row === undefined) row = await r.next()
    if (!row) break
    out.frame(row)
    sent++
    if ((sent & 255) === 0) await out.maybeFlush()
  }
  out.enc.commandComplete(opts.tag ? opts.tag(r.tag(), sent) : r.tag())
  return { complete: true, sent }
}
