/**
 * One client session: its settings, transaction block, cursors, prepared statements and portals,
 * and the routing of every statement to the session itself, the shadow catalog, or the data
 * executor. Messages are handled one at a time, in order (the wire layer guarantees it).
 */
import type { Logger } from '../../common/log.js'
import { PgError, toPgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { FrontendMessage } from '../../common/pgwire/index.js'
import type { Shadow, ShadowOwner } from '../catalog/shadow.js'
import type { DataExecutor } from '../exec/data-executor.js'
import type { Responder } from '../../common/pgwire/server/responder.js'
import type { SessionContext, SessionHandler } from '../../common/pgwire/server/session-handler.js'
import { Cancellation } from './cancellation.js'
import { CursorStore } from './cursors.js'
import { clockMicros } from './clock.js'
import { ExtendedProtocol } from './extended.js'
import { FrameError } from './frame-error.js'
import { SessionSettings } from './settings.js'
import { undefinedIn, type Undefined } from './placeholders.js'
import { begin, newActivity, settle, type Activities, type Activity } from './activity.js'
import type { BackendContext } from './backend-functions.js'
import { clientEncodingError } from './client-encoding.js'
import { idleTimeout } from './idle-timeout.js'
import { defaultOnlySetting } from './refusals.js'
import type { LiteralMemo } from './literal-memo.js'
import { ParameterReports } from './parameter-status.js'
import { ShadowRunner } from './shadow-exchange.js'
import { runSimpleQuery } from './simple-query.js'
import { StatementRunner } from './statement-runner.js'
import { sessionStatementTimer } from './statement-timeout.js'
import { statusOf, type TxnState } from './transaction.js'

export interface SessionDeps {
  readonly shadow: Shadow
  readonly executor: DataExecutor
  readonly log: Logger
  /** Kept replies to constant-only SELECTs, shared by the gateway's sessions. */
  readonly literals: LiteralMemo
  /** The gateway's sessions, for pg_stat_activity and the signal functions (activity.ts). */
  readonly activities: Activities
}

export class Session implements SessionHandler {
  readonly ctx: SessionContext
  readonly settings: SessionSettings
  readonly cursors = new CursorStore()
  readonly runner: ShadowRunner
  readonly deps: SessionDeps
  readonly log: Logger
  txn: TxnState = 'idle'
  /**
   * PostgreSQL's implicit transactions, which end at once on an error, undoing what the
   * statements before it in them did (a SET, a cursor WITH HOLD): 'block' for the statements of
   * one Query (a transaction block: SET LOCAL holds, SAVEPOINT is refused); 'sync' for
   * extended-protocol statements until Sync, outside a block.
   */
  implicit: 'none' | 'block' | 'sync' = 'none'
  /** When the statement and its transaction started, in microseconds since the epoch (statement_timestamp(), now()). */
  readonly clock = { statement: 0, transaction: 0 }
  /** A statement of the open transaction has read (PostgreSQL's first snapshot): its modes are fixed. */
  snapshotTaken = false
  /** A statement completed in this 'sync' implicit transaction (PostgreSQL's pipelining). */
  pipelined = false
  searchPath: string[] = ['$user', 'public']
  readonly #cancellation = new Cancellation()
  readonly statements: StatementRunner
  readonly #extended: ExtendedProtocol
  /** What pg_stat_activity shows of this session. */
  readonly activity: Activity

  constructor(ctx: SessionContext, deps: SessionDeps) {
    this.ctx = ctx
    this.deps = deps
    this.log = deps.log.child({ component: 'session', connId: ctx.connId })
    this.settings = new SessionSettings(ctx.user, ctx.startupParams)
    for (const [name] of this.settings.startupSettings()) this.defineSetting(name)
    this.runner = new ShadowRunner(deps.shadow, ctx.connId)
    this.statements = new StatementRunner(this)
    this.#extended = new ExtendedProtocol(this)
    this.activity = newActivity(ctx.pid, ctx.user, ctx.startupParams.get('database') ?? ctx.user, ctx.remoteAddress, ctx.startupParams.get('application_name') ?? '')
    deps.activities.add(this.activity, { cancel: () => this.cancel(), terminate: (e) => ctx.terminate(e) })
  }

  /** This session and the gateway's others, as the process functions see them (backend-functions.ts). */
  backends(): BackendContext {
    return { self: this.activity, sessions: this.deps.activities.list() }
  }

  /** Who the shadow runs this session's statements for (changes with every SET). */
  owner(): ShadowOwner {
    return { key: `${this.ctx.connId}:${this.settings.version}`, setup: this.settings.setup() }
  }

  /** Notes a setting a statement of this session SET, RESET or set_config()'d (placeholders.ts). */
  defineSetting(name: string): void {
    if (this.settings.define(name)) this.deps.shadow.definePlaceholder(name)
  }

  /** The custom settings the engine may know but this session has not defined; undefined if there are none. */
  undefinedSettings(): Undefined | undefined {
    return undefinedIn(this.deps.shadow.placeholders, (name) => this.settings.defines(name))
  }

  get signal(): AbortSignal {
    return this.#cancellation.signal
  }

  /** statement_timeout for what the gateway runs itself (statement-timeout.ts). */
  readonly statementTimer = sessionStatementTimer(this, (err) => this.#cancellation.abortWith(err))

  /** Runs `stop` when the running statement is cancelled (at once if it already is); returns its removal (cancellation.ts). */
  onCancel(stop: (reason: PgError) => void): () => void {
    return this.#cancellation.onCancel(stop)
  }

  status() {
    return statusOf(this.txn)
  }

  /** What the client has been told of the reported parameters (parameter-status.ts). */
  readonly #parameters = new ParameterReports(this)

  /** The reported parameters, with this session's values (its startup settings applied). */
  async start(out: Responder): Promise<void> {
    const encoding = this.settings.startupValue('client_encoding')
    const bad = encoding === undefined ? undefined : clientEncodingError(encoding, 'FATAL')
    if (bad) throw bad
    // A setting Fedgres takes only at its default (refusals.ts) is refused at startup too.
    for (const [name, value] of this.settings.startupSettings()) {
      const refused = defaultOnlySetting(name, value)
      if (refused) throw new PgError(refused.code, refused.message, { hint: refused.hint, severity: 'FATAL' })
    }
    try {
      await this.reportChanges(out)
    } catch (e) {
      throw e instanceof FrameError ? e.asFatal() : e
    }
    // The wire layer sends the first ReadyForQuery: from then on the session waits (idleLimit).
    this.#waiting = true
  }

  /**
   * Sends ParameterStatus for every reported parameter whose value changed, as PostgreSQL does
   * just before ReadyForQuery (parameter-status.ts).
   */
  reportChanges(out: Responder): Promise<void> {
    return this.#parameters.reportChanges(out)
  }

  /** ReadyForQuery was the last thing sent: the session waits for the client (idleLimit). */
  #waiting = false

  /** PostgreSQL ends a session that waits too long after ReadyForQuery (idle-timeout.ts). */
  async idleLimit(): Promise<{ ms: number; error: PgError } | undefined> {
    if (!this.#waiting) return undefined
    return idleTimeout(this.settings, this.txn !== 'idle')
  }

  /** Ends a message cycle: reported parameters that changed, then ReadyForQuery. */
  async readyForQuery(out: Responder): Promise<void> {
    try {
      await this.reportChanges(out)
    } catch (e) {
      this.log.warn('could not read settings for ParameterStatus', { error: String(e) })
    }
    out.readyForQuery(this.status())
    await out.flush()
    settle(this.activity, this.txn)
    this.#waiting = true
  }

  /** Keeps the routing's search path in step with the one PostgreSQL reports. */
  updateSearchPath(value: string): void {
    this.searchPath = value.split(',').map((p) => p.trim().replace(/^"(.*)"$/, '$1'))
  }

  /** ParameterStatus is sent before ReadyForQuery from the settings themselves (reportChanges). */
  relayParameterStatus(_out: Responder, _statusFrames: readonly Buffer[]): void {}

  async handle(msg: FrontendMessage, out: Responder): Promise<void> {
    this.#waiting = false
    this.#cancellation.renew()
    if (msg.type === 'Query' || msg.type === 'Parse' || msg.type === 'Bind' || msg.type === 'Execute') this.markStatement()
    switch (msg.type) {
      case 'Query':
        begin(this.activity, msg.sql, this.txn !== 'idle')
        await this.#extended.discardUnnamedPortal()
        await runSimpleQuery(this, msg.sql, out)
        await this.readyForQuery(out)
        return
      case 'Parse':
      case 'Bind':
      case 'Describe':
      case 'Execute':
      case 'Close':
      case 'Sync':
      case 'Flush':
        await this.#extended.handle(msg, out)
        return
      case 'CopyData':
      case 'CopyDone':
      case 'CopyFail':
        return // outside COPY these are ignored, as PostgreSQL does
      case 'FunctionCall':
        out.error(new PgError(SqlState.FeatureNotSupported, 'the function call protocol message is not supported by Fedgres'))
        await this.readyForQuery(out)
        return
      case 'AuthResponse':
        throw new PgError(SqlState.ProtocolViolation, 'unexpected password message')
      default:
        throw new PgError(SqlState.ProtocolViolation, `unexpected message ${msg.type}`)
    }
  }

  /**
   * A message that does not decode (a Bind with format code 2, a Describe of kind 'X', a Query
   * without its terminator): an ERROR, as in PostgreSQL; an extended-protocol message's then
   * skips to Sync. CopyData, CopyDone and CopyFail are ignored outside COPY, unread.
   */
  async malformed(code: number, error: PgError, out: Responder): Promise<void> {
    this.#waiting = false
    const type = String.fromCharCode(code)
    if ('dcf'.includes(type)) return
    if ('PBDECSH'.includes(type)) return this.#extended.malformed(code, error, out)
    if (type !== 'Q' && type !== 'F') throw error
    this.failed(error, out)
    await this.readyForQuery(out)
  }

  /** An error ends the statement; in a transaction block it aborts the block. */
  failed(e: unknown, out: Responder): void {
    const err = e instanceof FrameError ? e : toPgError(e)
    if (err instanceof FrameError) out.frame(err.frame)
    else {
      if (err.code === SqlState.InternalError) this.log.error('statement failed', { cause: String((err as PgError).cause ?? err) })
      out.error(err)
    }
    if (this.txn === 'open') {
      this.txn = 'failed'
      this.settings.abort()
    }
  }

  cancel(): void {
    this.#cancellation.abortWith(new PgError(SqlState.QueryCanceled, 'canceling statement due to user request'))
    this.deps.shadow.cancel(this.ctx.connId)
  }

  async close(): Promise<void> {
    this.deps.activities.remove(this.ctx.pid)
    this.statementTimer.disarm()
    this.#cancellation.abortWith(new PgError(SqlState.AdminShutdown, 'terminating connection'))
    this.cursors.close(null)
    this.#extended.closeAll()
  }

  /**
   * A Query, Parse, Bind or Execute arrives: PostgreSQL's statement time (one for all the
   * statements of a Query); outside a transaction, the time of the one it starts.
   */
  markStatement(): void {
    this.clock.statement = clockMicros()
    if (this.txn === 'idle' && this.implicit === 'none') this.clock.transaction = this.clock.statement
  }

  /** BEGIN (or AND CHAIN): a transaction block. */
  beginBlock(): void {
    this.txn = 'open'
    this.#startTransaction()
  }

  beginImplicit(kind: 'block' | 'sync'): void {
    this.pipelined = false
    this.implicit = kind
    if (kind === 'block') this.txn = 'open'
    this.#startTransaction()
  }

  /** Any transaction starts at the statement's time, with its settings and cursors kept apart. */
  #startTransaction(): void {
    this.clock.transaction = this.clock.statement
    this.settings.begin()
    this.cursors.beginTransaction()
  }

  /** The implicit transaction commits (it ran through) or rolls back (a statement failed). */
  endImplicit(commit: boolean): void {
    if (commit) this.settings.commit()
    else this.settings.rollback()
    this.implicit = 'none'
    this.txn = 'idle'
    this.endTransaction(commit)
  }

  /** Transaction end: cursors without HOLD (on ROLLBACK, any it declared) and every portal go, as in PostgreSQL. */
  endTransaction(commit: boolean): void {
    this.snapshotTaken = false
    this.cursors.endTransaction(commit)
    this.#extended.closeAll()
  }

  extended(): ExtendedProtocol {
    return this.#extended
  }
}
