/**
 * The interface between the session layer and whatever answers statements that read Fedgres's
 * tables. The federation implements it; until then (and for protocol tests) the shadow catalog's
 * own empty tables answer.
 */
import type { ShadowOwner } from '../catalog/shadow.js'
import type { SessionValues } from '../plan/session-values.js'
import type { ResultStream } from '../session/result.js'
import type { ParsedStatement } from '../session/sql-parse.js'
import type { ShadowRunner } from '../session/shadow-exchange.js'
import { FrameError } from '../session/frame-error.js'
import type { PgError } from '../../common/errors/pg-error.js'

export interface DataQuery {
  readonly statement: ParsedStatement
  /** The client's name for the prepared statement, for errors that name it. */
  readonly statementName?: string
  readonly paramTypes: readonly number[]
  readonly params: readonly (Buffer | null)[]
  readonly paramFormats: readonly number[]
  readonly resultFormats: readonly number[]
  /** Runs catalog work (Describe) as this session. */
  readonly owner: ShadowOwner
  readonly runner: ShadowRunner
  /** A session setting (`fedgres.partial_results`, `fedgres.edge_timeout`, ...), as a string. */
  readonly setting: (name: string) => string | undefined
  /** Runs `stop` when the client cancels the statement or goes away; returns its removal. */
  readonly onCancel: (stop: (reason: PgError) => void) => () => void
  readonly connId: number
  /** When the statement and its transaction started, in microseconds since the epoch. */
  readonly clock: { readonly statement: number; readonly transaction: number; readonly parsed?: number }
  /** The session's output settings (TimeZone, DateStyle, ...), as PostgreSQL reports them. */
  readonly outputSettings: () => Promise<readonly (readonly [string, string])[]>
  /** The session's identity (current_user, current_database(), ...), as the shadow reports it. */
  readonly sessionValues: () => Promise<SessionValues>
  /** The session's search_path, as schema names. */
  readonly searchPath: readonly string[]
}

export interface DataExecutor {
  /** Starts the statement; rows stream from the returned result. Throws a PgError to fail it. */
  execute(q: DataQuery): Promise<ResultStream>
}

/** Answers from the shadow catalog's (empty) tables: exact types and formats, no rows. */
export class ShadowDataExecutor implements DataExecutor {
  async execute(q: DataQuery): Promise<ResultStream> {
    const out = await q.runner.bound(q.owner, {
      sql: q.statement.text,
      paramTypes: q.paramTypes,
      params: q.params,
      paramFormats: q.paramFormats,
      resultFormats: q.resultFormats,
    })
    if (out.error) throw new FrameError(out.error)
    return out.result!
  }
}
