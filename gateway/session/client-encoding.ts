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

/** PostgreSQL compares encoding names case-insensitively, ignoring all but letters and digits (encnames.c). */
const clean = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '')

const ACCEPTED = new Set(['utf8', 'unicode', 'sqlascii'])

/** The names PostgreSQL knows (encnames.c); one not listed is left for the shadow to reject (22023). */
const KNOWN = new Set([
  'abc', 'alt', 'big5', 'euccn', 'eucjis2004', 'eucjp', 'euckr', 'euctw', 'gb18030', 'gbk', 'iso88591', 'iso885910', 'iso885913', 'iso885914',
  'iso885915', 'iso885916', 'iso88592', 'iso88593', 'iso88594', 'iso88595', 'iso88596', 'iso88597', 'iso88598', 'iso88599', 'johab', 'koi8',
  'koi8r', 'koi8u', 'latin1', 'latin10', 'latin2', 'latin3', 'latin4', 'latin5', 'latin6', 'latin7', 'latin8', 'latin9', 'mskanji',
  'muleinternal', 'shiftjis', 'shiftjis2004', 'sjis', 'tcvn', 'tcvn5712', 'uhc', 'vscii', 'win', 'win1250', 'win1251', 'win1252', 'win1253',
  'win1254', 'win1255', 'win1256', 'win1257', 'win1258', 'win866', 'win874', 'win932', 'win936', 'win949', 'win950', 'windows1250',
  'windows1251', 'windows1252', 'windows1253', 'windows1254', 'windows1255', 'windows1256', 'windows1257', 'windows1258', 'windows866',
  'windows874', 'windows932', 'windows936', 'windows949', 'windows950',
])

/** The error for a client_encoding the gateway cannot serve, or undefined if it can (or PostgreSQL will judge the name). */
export function clientEncodingError(value: string, severity: 'ERROR' | 'FATAL' = 'ERROR'): PgError | undefined {
  const name = clean(value)
  if (ACCEPTED.has(name) || !KNOWN.has(name)) return undefined
  return new PgError(SqlState.FeatureNotSupported, `conversion between ${value.toUpperCase()} and UTF8 is not supported`, {
    severity,
    detail: 'Fedgres sends and receives text in UTF8 only.',
    hint: 'Set client_encoding to UTF8 (for psql: PGCLIENTENCODING=UTF8).',
  })
}
