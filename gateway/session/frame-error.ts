import { PgError } from '../../common/errors/pg-error.js'
import { SqlState, type SqlStateCode } from '../../common/errors/sqlstate.js'
import { decodeBackendMessage } from '../../common/pgwire/index.js'

/**
 * An error PostgreSQL (the shadow or an edge) reported, kept as its ErrorResponse frame so the
 * client receives every field exactly as PostgreSQL sent it.
 */
export class FrameError extends PgError {
  readonly frame: Buffer
  constructor(frame: Buffer) {
    const m = decodeBackendMessage(frame)
    const f = m.type === 'ErrorResponse' ? m.fields : { code: SqlState.InternalError, message: 'internal error' }
    super(f.code as SqlStateCode, f.message)
    this.frame = frame
  }

  /** The same error, ending the connection (a session that cannot start). */
  asFatal(): PgError {
    return new PgError(this.code, this.message, { severity: 'FATAL' })
  }
}
