/**
 * One gateway connection to the edge. Messages are collected up to Sync, checked, and run as one
 * batch in a READ ONLY transaction under the store's mutex, then rolled back: nothing a caller
 * does (settings, statements, portals) outlives its batch, so callers never see each other. The
 * connection's own settings (its startup packet's) are set anew in every batch.
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

export interface EdgeSessionDeps {
  readonly store: EdgeStore
  readonly parameters: readonly (readonly [string, string])[]
  /** The connection's output settings (from its startup packet), set in each batch. */
  readonly settings: readonly (readonly [string, string])[]
  readonly log: Logger
  /** Called for each statement run that reads the event tables (the pruning tests count them). */
  readonly onStatement?: () => void
}

export class EdgeSession implements SessionHandler {
  readonly #deps: EdgeSessionDeps
  #batch = new FrontendEncoder()
  #statements = 0
  #eventReads = 0
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
      const err = checkEdgeStatement(msg.sql)
      if (err) return this.#fail(out, err, true)
      this.#statements++
      if (readsEvents(msg.sql)) this.#eventReads++
      return this.#run(this.#batch.query(msg.sql).take(), out)
    }
    if (msg.type === 'Sync') {
      if (this.#skipping || this.#statements === 0) {
        this.#skipping = false
        this.#batch.take()
        this.#statements = 0
        // Nothing to run (or the batch failed its checks): answer for the messages we took.
        out.readyForQuery('I')
        return out.flush()
      }
      return this.#run(this.#batch.sync().take(), out)
    }
    if (this.#skipping) return
    switch (msg.type) {
      case 'Parse': {
        if (msg.name !== '') return this.#fail(out, new PgError(SqlState.FeatureNotSupported, 'an edge keeps no named prepared statements; use the unnamed statement'))
        const err = checkEdgeStatement(msg.sql)
        if (err) return this.#fail(out, err)
        this.#statements++
        if (readsEvents(msg.sql)) this.#eventReads++
        this.#batch.parse('', msg.sql, msg.paramTypes)
        return
      }
      case 'Bind':
        if (msg.portal !== '' || msg.statement !== '') return this.#fail(out, new PgError(SqlState.FeatureNotSupported, 'an edge keeps no named portals or statements'))
        this.#batch.bind('', '', msg.paramFormats, msg.params, msg.resultFormats)
        return
      case 'Describe':
        this.#batch.describe(msg.kind, msg.name)
        return
      case 'Execute':
        this.#batch.execute(msg.portal, msg.maxRows)
        return
      case 'Close':
        this.#batch.close(msg.kind, msg.name)
        return
      case 'Flush':
        return // replies go out at Sync
      default:
        return this.#fail(out, new PgError(SqlState.FeatureNotSupported, `message ${msg.type} is not served by an edge`))
    }
  }

  #fail(out: Responder, e: PgError, ready = false): Promise<void> {
    this.#batch.take()
    this.#statements = 0
    this.#eventReads = 0
    out.error(e)
    if (ready) out.readyForQuery('I')
    else this.#skipping = true
    return out.flush()
  }

  /** Runs a batch and relays its reply; the transaction is gone afterwards, so the status is idle. */
  async #run(bytes: Buffer, out: Responder): Promise<void> {
    this.#statements = 0
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
        this.#deps.settings,
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

  async close(): Promise<void> {
    this.#abort?.abort()
  }
}
