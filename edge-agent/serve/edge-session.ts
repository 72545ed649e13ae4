/**
 * One gateway connection to the edge. Messages are collected up to Sync, checked, and run as one
 * batch in a READ ONLY transaction under the store's mutex, then rolled back: nothing a caller
 * does (settings, portals) outlives its batch, so callers never see each other. The connection's
 * own settings (its startup packet's) are set anew in every batch.
 *
 * Named prepared statements are the connection's own: the store has one backend, so each name
 * gets the connection's prefix there, another connection cannot bind it, and the connection's
 * statements are deallocated when it closes. A gateway prepares what it sends repeatedly, so the
 * edge parses, checks and plans a statement once.
 * PGlite speaks the protocol itself; the reply is relayed as it streams out of the worker.
 */
import { PgError, toPgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { Logger } from '../../common/log.js'
import { FrontendEncoder, type FrontendMessage } from '../../common/pgwire/index.js'
import type { Responder } from '../../common/pgwire/server/responder.js'
import type { SessionHandler } from '../../common/pgwire/server/session-handler.js'
import type { EdgeStore } from '../store/edge-store.js'
import { checkEdgeStatement, readsEvents } from './guard.js'

/** ReadyForQuery is 6 bytes: 'Z', length 5, status. */
const RFQ_BYTES = 6
/** Named statements one connection may keep (a gateway keeps 64). */
const MAX_NAMED = 256
const STATEMENT_NAME = /^[A-Za-z0-9_]{1,40}$/
let sessions = 0

/** 26000 for a statement this connection has not prepared, worded as PostgreSQL words it. */
const noStatement = (name: string) => new PgError(SqlState.InvalidSqlStatementName, name ? `prepared statement "${name}" does not exist` : 'unnamed prepared statement does not exist')

export interface EdgeSessionDeps {
  readonly store: EdgeStore
  readonly parameters: readonly (readonly [string, string])[]
  /** The statement that sets the connection's settings (from its startup packet), run in each batch. */
  readonly setup?: string
  readonly log: Logger
  /** Called for each statement run that reads the event tables (the pruning tests count them). */
  readonly onStatement?: () => void
}

export class EdgeSession implements SessionHandler {
  readonly #deps: EdgeSessionDeps
  #batch = new FrontendEncoder()
  /** Messages in the batch that the store must run. */
  #pending = 0
  /** Statements executed in the batch that read the event tables. */
  #eventReads = 0
  /** Whether each named statement (the gateway's name) reads the event tables; '' is the unnamed one. */
  readonly #statements = new Map<string, boolean>()
  /** Whether the statement bound to the unnamed portal reads the event tables. */
  #portalReads = false
  /** The connection's prefix for its statement names in the store. */
  readonly #prefix = `fg${(sessions++).toString(36)}_`
  /** After an error, messages are ignored until Sync (as PostgreSQL does). */
  #skipping = false
  #abort: AbortController | undefined

  constructor(deps: EdgeSessionDeps) {
    this.#deps = deps
  }

  async start(out: Responder): Promise<void> {
    for (const [name, value] of this.#deps.parameters) out.enc.parameterStatus(name, value)
  }

  async handle(msg: FrontendMessage, out: Responder): Promise<void> {
    if (msg.type === 'Query') {
      this.#statements.delete('') // a simple query replaces the store's unnamed statement
      const err = checkEdgeStatement(msg.sql)
      if (err) return this.#fail(out, err, true)
      this.#pending++
      if (readsEvents(msg.sql)) this.#eventReads++
      return this.#run(this.#batch.query(msg.sql).take(), out)
    }
    if (msg.type === 'Sync') {
      // The store's unnamed statement is shared by every connection: it is this connection's
      // only within the batch that parsed it.
      this.#statements.delete('')
      if (this.#skipping || this.#pending === 0) {
        this.#skipping = false
        this.#batch.take()
        this.#pending = 0
        this.#eventReads = 0
        // Nothing to run (or the batch failed its checks): answer for the messages we took.
        out.readyForQuery('I')
        return out.flush()
      }
      return this.#run(this.#batch.sync().take(), out)
    }
    if (this.#skipping) return
    switch (msg.type) {
      case 'Parse': {
        if (msg.name !== '' && !STATEMENT_NAME.test(msg.name)) return this.#fail(out, new PgError(SqlState.FeatureNotSupported, 'an edge takes statement names of letters, digits and underscores, up to 40'))
        if (msg.name !== '' && !this.#statements.has(msg.name) && this.#statements.size >= MAX_NAMED) {
          return this.#fail(out, new PgError(SqlState.ProgramLimitExceeded, `an edge keeps at most ${MAX_NAMED} prepared statements per connection`, { hint: 'Close statements no longer needed.' }))
        }
        const err = checkEdgeStatement(msg.sql)
        if (err) return this.#fail(out, err)
        this.#statements.set(msg.name, readsEvents(msg.sql))
        this.#batch.parse(this.#storeName(msg.name), msg.sql, msg.paramTypes)
        break
      }
      case 'Bind': {
        if (msg.portal !== '') return this.#fail(out, new PgError(SqlState.FeatureNotSupported, 'an edge keeps no named portals'))
        const reads = this.#statements.get(msg.statement)
        if (reads === undefined) return this.#fail(out, noStatement(msg.statement))
        this.#portalReads = reads
        this.#batch.bind('', this.#storeName(msg.statement), msg.paramFormats, msg.params, msg.resultFormats)
        break
      }
      case 'Describe':
        if (msg.kind === 'S' && !this.#statements.has(msg.name)) return this.#fail(out, noStatement(msg.name))
        this.#batch.describe(msg.kind, msg.kind === 'S' ? this.#storeName(msg.name) : msg.name)
        break
      case 'Execute':
        if (this.#portalReads) this.#eventReads++
        this.#batch.execute(msg.portal, msg.maxRows)
        break
      case 'Close':
        if (msg.kind === 'S' && msg.name !== '') this.#statements.delete(msg.name)
        this.#batch.close(msg.kind, msg.kind === 'S' ? this.#storeName(msg.name) : msg.name)
        break
      case 'Flush':
        return // replies go out at Sync
      default:
        return this.#fail(out, new PgError(SqlState.FeatureNotSupported, `message ${msg.type} is not served by an edge`))
    }
    this.#pending++
  }

  /** A statement's name in the store: the connection's prefix and the gateway's name. */
  #storeName(name: string): string {
    return name === '' ? '' : this.#prefix + name
  }

  #fail(out: Responder, e: PgError, ready = false): Promise<void> {
    this.#batch.take()
    this.#pending = 0
    this.#eventReads = 0
    out.error(e)
    if (ready) out.readyForQuery('I')
    else this.#skipping = true
    return out.flush()
  }

  /** Runs a batch and relays its reply; the transaction is gone afterwards, so the status is idle. */
  async #run(bytes: Buffer, out: Responder): Promise<void> {
    this.#pending = 0
    const reads = this.#eventReads
    this.#eventReads = 0
    const abort = new AbortController()
    this.#abort = abort
    let tail: Buffer = Buffer.alloc(0)
    try {
      await this.#deps.store.serve(
        bytes,
        (chunk) => {
          const all = tail.length ? Buffer.concat([tail, chunk]) : Buffer.from(chunk)
          const cut = Math.max(0, all.length - RFQ_BYTES)
          if (cut > 0) out.frame(all.subarray(0, cut))
          tail = all.subarray(cut)
          if (out.enc.pendingBytes > 64 * 1024) void out.flush()
        },
        abort.signal,
        this.#deps.setup,
      )
      for (let i = 0; i < reads; i++) this.#deps.onStatement?.()
      if (tail.length === RFQ_BYTES && tail[0] === 0x5a) out.readyForQuery('I')
      else {
        out.frame(tail)
        out.readyForQuery('I')
      }
    } catch (e) {
      const err = abort.signal.aborted ? new PgError(SqlState.QueryCanceled, 'canceling statement due to user request') : toPgError(e)
      if (!abort.signal.aborted) this.#deps.log.error('edge query failed', { error: String(e) })
      out.frame(tail)
      out.error(err)
      out.readyForQuery('I')
    } finally {
      this.#abort = undefined
    }
    await out.flush()
  }

  cancel(): void {
    this.#abort?.abort()
  }

  /** Ends the connection: its running batch is dropped and its named statements deallocated. */
  async close(): Promise<void> {
    this.#abort?.abort()
    const names = [...this.#statements.keys()].filter((n) => n !== '')
    this.#statements.clear()
    if (names.length === 0) return
    const enc = new FrontendEncoder()
    for (const n of names) enc.close('S', this.#storeName(n))
    try {
      await this.#deps.store.serve(enc.sync().take(), () => {})
    } catch (e) {
      this.#deps.log.warn('could not deallocate a closed connection\'s statements', { error: String(e) })
    }
  }
}
