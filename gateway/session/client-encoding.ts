/**
 * The client encodings a gateway session may use: UTF8, and SQL_ASCII (no conversion, as in
 * PostgreSQL; psql asks for it under the C locale).
 *
 * Rows reach the client as the shadow catalog and the edges wrote them, in UTF8, and the shared
 * shadow must stay in UTF8 for every session: in another encoding PGlite's error reporting
 * recursed (ERRORDATA_STACK_SIZE exceeded) and left the shadow broken for all sessions. So any
 * other encoding is refused before it reaches the shadow, with PostgreSQL's own error for a
 * conversion it lacks (0A000), rather than sending a client bytes it would misread.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { cleanEncodingName, KNOWN_ENCODINGS, SERVER_LIKE_ENCODINGS } from '../../common/encoding-conversion.js'

/** The error for a client_encoding the gateway cannot serve, or undefined if it can (or PostgreSQL will judge the name). */
export function clientEncodingError(value: string, severity: 'ERROR' | 'FATAL' = 'ERROR'): PgError | undefined {
  const name = cleanEncodingName(value)
  if (SERVER_LIKE_ENCODINGS.has(name) || !KNOWN_ENCODINGS.has(name)) return undefined
  return new PgError(SqlState.FeatureNotSupported, `conversion between ${value.toUpperCase()} and UTF8 is not supported`, {
    severity,
    detail: 'Fedgres sends and receives text in UTF8 only.',
    hint: 'Set client_encoding to UTF8 (for psql: PGCLIENTENCODING=UTF8).',
  })
}
