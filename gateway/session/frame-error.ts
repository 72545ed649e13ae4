import { PgError } from '../../common/errors/pg-error.js'
import { SqlState, type SqlStateCode } from '../../common/errors/sqlstate.js'
import { BackendEncoder, decodeBackendMessage } from '../../common/pgwire/index.js'

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

/**
 * The error with its position counted from `offset` characters earlier: a statement of a
 * multi-statement Query (or one after blanks) runs as its own text, and PostgreSQL counts the
 * position in the whole query string, where psql puts its caret.
 */
export function shiftedPosition(e: unknown, offset: number): unknown {
  if (offset === 0 || !(e instanceof PgError)) return e
  if (e instanceof FrameError) {
    const m = decodeBackendMessage(e.frame)
    if (m.type !== 'ErrorResponse' || m.fields.position === undefined) return e
    return new FrameError(new BackendEncoder().errorResponse({ ...m.fields, position: String(Number(m.fields.position) + offset) }).take())
  }
  if (e.position === undefined) return e
  return new PgError(e.code, e.message, { severity: e.severity, detail: e.detail, hint: e.hint, source: e.source, position: e.position + offset })
}
