/** What the wire layer needs from a session: it knows messages, never SQL. */
import type { FrontendMessage } from '../index.js'
import type { Responder } from './responder.js'
import type { PgError } from '../../errors/pg-error.js'

export interface SessionContext {
  readonly connId: number
  readonly user: string
  /** StartupMessage parameters, `_pq_.` options removed. */
  readonly startupParams: ReadonlyMap<string, string>
  readonly pid: number
  readonly secret: number
  readonly tls: boolean
  readonly remoteAddress: string
  /** Ends the connection with this FATAL error (another session's pg_terminate_backend). */
  readonly terminate: (error: PgError) => void
}

export interface SessionHandler {
  /** Sends ParameterStatus messages; the wire layer then sends BackendKeyData and ReadyForQuery. */
  start(out: Responder): Promise<void>
  /** Runs one frontend message, writing its replies. Never throws for client errors. */
  handle(msg: FrontendMessage, out: Responder): Promise<void>
  /**
   * A whole frame (its length was right) whose body does not decode: PostgreSQL answers with an
   * ERROR and goes on (skipping to Sync after an extended-protocol message). Without this the
   * connection ends with the error as FATAL.
   */
  malformed?(code: number, error: PgError, out: Responder): Promise<void>
  /**
   * How long the session may wait for the client's next message, and the FATAL error that ends
   * it then (idle_in_transaction_session_timeout, idle_session_timeout); asked whenever it has
   * answered everything. Undefined: no limit.
   */
  idleLimit?(): Promise<{ readonly ms: number; readonly error: PgError } | undefined>
  /** A CancelRequest for this session arrived. */
  cancel(): void
  close(): Promise<void>
}

export type SessionFactory = (ctx: SessionContext) => Promise<SessionHandler>
