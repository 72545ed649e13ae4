/**
 * The fields of ErrorResponse and NoticeResponse, named as pg-protocol's DatabaseError names
 * them, with their one-letter protocol codes.
 * @see https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
import type { PgError } from '../errors/pg-error.js'

export interface ErrorFields {
  /** S: ERROR, FATAL, PANIC, WARNING, NOTICE, DEBUG, INFO or LOG (possibly localized). */
  readonly severity: string
  /** V: the same, never localized; encoders default it to `severity`. */
  readonly severityNonLocalized?: string
  /** C: SQLSTATE. */
  readonly code: string
  /** M */
  readonly message: string
  /** D */
  readonly detail?: string
  /** H */
  readonly hint?: string
  /** P: 1-based character (not byte) position in the query string. */
  readonly position?: string
  /** p */
  readonly internalPosition?: string
  /** q */
  readonly internalQuery?: string
  /** W */
  readonly where?: string
  /** s */
  readonly schema?: string
  /** t */
  readonly table?: string
  /** c */
  readonly column?: string
  /** d */
  readonly dataType?: string
  /** n */
  readonly constraint?: string
  /** F */
  readonly file?: string
  /** L */
  readonly line?: string
  /** R */
  readonly routine?: string
}

/** A Record, so a field added to ErrorFields does not compile until it has a code. */
export const ERROR_FIELD_CODES: Readonly<Record<keyof ErrorFields, number>> = {
  severity: 0x53, // S
  severityNonLocalized: 0x56, // V
  code: 0x43, // C
  message: 0x4d, // M
  detail: 0x44, // D
  hint: 0x48, // H
  position: 0x50, // P
  internalPosition: 0x70, // p
  internalQuery: 0x71, // q
  where: 0x57, // W
  schema: 0x73, // s
  table: 0x74, // t
  column: 0x63, // c
  dataType: 0x64, // d
  constraint: 0x6e, // n
  file: 0x46, // F
  line: 0x4c, // L
  routine: 0x52, // R
}

/** Field names in encoding order, and a byte → name table for decoding. */
export const ERROR_FIELD_NAMES = Object.keys(ERROR_FIELD_CODES) as (keyof ErrorFields)[]
export const ERROR_FIELD_BY_CODE: readonly (keyof ErrorFields | undefined)[] = (() => {
  const table: (keyof ErrorFields | undefined)[] = new Array<keyof ErrorFields | undefined>(256).fill(undefined)
  for (const name of ERROR_FIELD_NAMES) table[ERROR_FIELD_CODES[name]] = name
  return table
})()

/** The fields to send for a PgError: what the client may see, never its cause. */
export function errorFromPgError(e: PgError): ErrorFields {
  return {
    severity: e.severity,
    code: e.code,
    message: e.message,
    detail: e.detail,
    hint: e.hint,
    position: e.position === undefined ? undefined : String(e.position),
    file: e.source?.file,
    line: e.source?.line,
    routine: e.source?.routine,
  }
}
