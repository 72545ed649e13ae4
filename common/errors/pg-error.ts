import { SqlState, type SqlStateCode } from './sqlstate.js'

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG'

export interface PgErrorFields {
  readonly severity?: Severity
  readonly detail?: string
  readonly hint?: string
  readonly position?: number
  /** Where in PostgreSQL's source an error was raised (F, L, R), for one relayed from a server. */
  readonly source?: ErrorSource
  readonly cause?: unknown
}

export interface ErrorSource {
  readonly file?: string
  readonly line?: string
  readonly routine?: string
}

/**
 * An error meant for a PostgreSQL client. Only PgError reaches the wire; anything
 * else is turned into XX000 by toPgError and its cause goes to the log only.
 */
export class PgError extends Error {
  readonly code: SqlStateCode
  readonly severity: Severity
  readonly detail?: string
  readonly hint?: string
  readonly position?: number
  readonly source?: ErrorSource

  constructor(code: SqlStateCode, message: string, fields: PgErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'PgError'
    this.code = code
    this.severity = fields.severity ?? 'ERROR'
    this.detail = fields.detail
    this.hint = fields.hint
    this.position = fields.position
    this.source = fields.source
  }
}

export const featureNotSupported = (what: string, hint?: string) =>
  new PgError(SqlState.FeatureNotSupported, `${what} is not supported by Fedgres`, { hint })

export const readOnly = (what: string) =>
  new PgError(SqlState.ReadOnlySqlTransaction, `cannot execute ${what}: Fedgres is read-only`, {
    hint: 'Events are written by the edge agents from KubeArmor; the gateway only reads them.',
  })

export const protocolViolation = (message: string) => new PgError(SqlState.ProtocolViolation, message)

export function toPgError(e: unknown): PgError {
  if (e instanceof PgError) return e
  return new PgError(SqlState.InternalError, 'internal error', { cause: e })
}

/** Fields of an ErrorResponse or NoticeResponse received from a PostgreSQL server. */
export interface ServerMessageFields {
  readonly severity: string
  readonly code: string
  readonly message: string
  readonly detail?: string
  readonly hint?: string
  readonly position?: string
  readonly file?: string
  readonly line?: string
  readonly routine?: string
}

/** An error reported by a PostgreSQL server we talked to (an edge, the shadow). */
export class RemotePgError extends PgError {
  readonly fields: ServerMessageFields
  constructor(fields: ServerMessageFields) {
    super(fields.code as SqlStateCode, fields.message, {
      detail: fields.detail,
      hint: fields.hint,
      position: fields.position === undefined ? undefined : Number(fields.position),
      source: fields.file === undefined && fields.routine === undefined ? undefined : { file: fields.file, line: fields.line, routine: fields.routine },
    })
    this.fields = fields
  }
}
