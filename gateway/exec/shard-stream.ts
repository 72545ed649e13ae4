/**
 * One shard's part of a statement: asks its preferred replica, fails over to the next one if
 * that replica fails before any row was passed on, and queues rows as they arrive. The edge's
 * SQL errors are the statement's errors; a lost or silent edge is 08006, naming it.
 *
 * A shard with replicas holds its rows back until its reply is complete (up to HOLD_ROWS), so a
 * replica that dies mid-reply costs nothing: its rows are dropped and the next replica answers
 * the whole part. Past HOLD_ROWS the rows flow on, and a later failure is 08006.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { BackendCode } from '../../common/pgwire/index.js'
import type { ShardTarget } from '../plan/types.js'
import { BatchReply, retryNamed } from './batch-reply.js'
import { EdgeUnreachable, edgeError, type EdgeConnection } from './edge-connection.js'
import type { EdgePool } from './edge-pool.js'
import { encodeBatch, statementName, type EdgeRequest } from './edge-statements.js'
import { nextRow } from './merge.js'
import { RowQueue } from './row-queue.js'
import type { SilenceWatch, Watched } from './silence-watch.js'

export interface ShardStats {
  readonly shard: string
  edgeId: string
  rows: number
  ms: number
  failovers: string[]
}

const HIGH_WATER = 20_000
const LOW_WATER = 2_000
/** Rows a replicated shard holds back for failover before it passes them on. */
export const HOLD_ROWS = 10_000
/**
 * How long an edge has to end a reply the statement no longer needs before the connection is
 * dropped: a shard cut short by a LIMIT is let finish (its rows dropped) for this long before it
 * is cancelled, and a cancelled edge has this long to confirm the cancel (57014, then
 * ReadyForQuery). Dropping every such connection made the next statement open, and
 * authenticate, a new one for each shard a LIMIT had cut short.
 */
export const DRAIN_MS = 1000

export class ShardStream implements Watched {
  readonly stats: ShardStats
  readonly #queue = new RowQueue()
  #done = false
  #error: Error | undefined
  #waiter: (() => void) | undefined
  #conn: EdgeConnection | undefined
  #paused = false
  #cancelled = false
  #cancelledAt = 0
  /** The statement needs no more rows (enough): the rest of the reply is dropped until this deadline. */
  #drainUntil = 0
  /** Rows are held back (replicas to fail over to, nothing passed on yet). */
  #holding: boolean
  /** Rows passed on to the merge: past the first, no failover. */
  #passed = 0
  #timedOut = false
  /** When the shard started waiting on its edge, or resumed reading (later bytes: EdgeConnection.heardAt). */
  #heard = 0
  /** Aborts a connection attempt in progress when the shard is cancelled (made only if one is). */
  #connecting: AbortController | undefined
  readonly #request: EdgeRequest
  /** The statement's name on edge connections. */
  #name: string | undefined

  constructor(
    readonly target: ShardTarget,
    request: EdgeRequest,
    private readonly pool: EdgePool,
    private readonly watch: SilenceWatch,
  ) {
    this.#request = request
    this.stats = { shard: target.shard, edgeId: target.replicas[0]?.edgeId ?? '', rows: 0, ms: 0, failovers: [] }
    this.#holding = target.replicas.length > 1
    watch.add(this)
    void this.#run()
  }

  async #run(): Promise<void> {
    const started = performance.now()
    const replicas = this.target.replicas
    for (let i = 0; i < replicas.length && !this.#cancelled; i++) {
      const edge = replicas[i]!
      this.stats.edgeId = edge.edgeId
      try {
        await this.#ask(edge)
        break
      } catch (e) {
        if (this.#cancelled) break // cut off by the cancel: the error is set below
        const retry = e instanceof EdgeUnreachable && this.#passed === 0 && i + 1 < replicas.length && !this.#cancelled && this.#drainUntil === 0
        if (retry) {
          this.stats.failovers.push(`${edge.edgeId}: ${(e as Error).message}${this.stats.rows > 0 ? ` after ${this.stats.rows} rows (dropped)` : ''}`)
          this.#queue.clear()
          this.stats.rows = 0
          continue
        }
        this.#error = e instanceof EdgeUnreachable ? edgeError(edge.edgeId, e.message) : (e as Error)
        break
      }
    }
    // A cancelled shard ended at its cancel (with its error): what its run found since is moot.
    if (this.#cancelled) {
      this.stats.ms = performance.now() - started
      this.watch.remove(this)
      return
    }
    this.stats.ms = performance.now() - started
    this.#holding = false
    this.#done = true
    this.watch.remove(this)
    this.#wake()
  }

  async #ask(edge: ShardTarget['replicas'][number]): Promise<void> {
    const settings = this.#request.settings
    let conn = this.pool.idle(edge, settings)
    if (!conn) {
      this.#connecting = new AbortController()
      // A session's fedgres.edge_timeout below the pool's connect timeout bounds connecting too:
      // a hung edge took the pool's 5 s under edge_timeout = 2s.
      conn = await this.pool.acquire(edge, this.#connecting.signal, settings, Math.min(this.pool.connectTimeoutMs, this.watch.timeoutMs))
      this.#connecting = undefined
    }
    if (this.#cancelled) {
      conn.close()
      return
    }
    if (this.#drainUntil > 0) {
      // The statement had enough rows before this shard's edge was asked.
      this.pool.release(conn)
      return
    }
    this.#conn = conn
    // fedgres.edge_timeout is how long an edge may stay silent (see checkSilence): a reply that
    // keeps streaming, or waits on a slow client with reading paused, is not cut off however long it runs.
    this.#heard = performance.now()
    let sqlError: PgError | undefined
    try {
      sqlError = await this.#runOn(conn)
      // A named statement the edge refused before any row is run again, once.
      const stale = this.stats.rows === 0 && !this.#cancelled ? retryNamed(sqlError, conn.statements, this.#name) : undefined
      if (stale) sqlError = await this.#runOn(conn, stale)
    } catch (e) {
      if (this.#cancelled) return
      if (this.#timedOut) throw new EdgeUnreachable(`no answer within ${this.watch.timeoutMs} ms (fedgres.edge_timeout)${this.stats.rows > 0 ? ` after ${this.stats.rows} rows` : ''}`)
      throw e
    } finally {
      this.#conn = undefined
      this.#paused = false
    }
    // A cancelled reply that ended without 57014 ended before the cancel reached the edge, which
    // may still act on it during the connection's next statement: the connection is not reused.
    if (this.#cancelled && sqlError?.code !== SqlState.QueryCanceled) conn.close()
    else this.pool.release(conn)
    // A cancel the gateway did not send (the edge's backend cancelled there, by an operator or the
    // edge itself) is the edge failing: 08006 naming it, a replica's turn, or the partial-results
    // NOTICE. It reached the client as "canceling statement due to user request".
    if (sqlError?.code === SqlState.QueryCanceled && !this.#cancelled && this.#drainUntil === 0) throw new EdgeUnreachable(`the edge cancelled the statement (${sqlError.message})`)
    if (sqlError) throw sqlError
  }

  /** Runs the statement's batch on `conn` (closing `stale` first); resolves with the edge's SQL error, if any. */
  async #runOn(conn: EdgeConnection, stale: readonly string[] = []): Promise<PgError | undefined> {
    const prelude = conn.settingsConfirmed || this.#request.settings.length === 0 ? 0 : 1
    const name = conn.statements.named ? (this.#name ??= statementName(this.#request)) : ''
    const { parse, close } = conn.statements.use(name)
    const bytes = encodeBatch(this.#request, { prelude: prelude === 1, name, parse, close: stale.length > 0 ? [...stale, ...close] : close })
    const reply = new BatchReply(conn.statements, prelude, name, parse)
    await conn.run(bytes, (f) => {
      if (f[0] !== BackendCode.DataRow) return reply.message(f)
      if (reply.completes < prelude || this.#cancelled || this.#drainUntil > 0) return
      this.#queue.push(f)
      this.stats.rows++
      if (!this.#paused && this.#queue.length > HIGH_WATER) {
        this.#paused = true
        conn.pause()
      }
      if (this.#holding && this.#queue.length >= HOLD_ROWS) this.#holding = false
      if (!this.#holding) this.#wake()
    })
    return reply.sqlError
  }

  checkSilence(now: number): void {
    const conn = this.#conn
    if (conn && this.#cancelled) {
      if (now - this.#cancelledAt >= DRAIN_MS) conn.close()
      return
    }
    if (conn && this.#drainUntil > 0) {
      if (now >= this.#drainUntil) this.cancel()
      return
    }
    if (!conn || this.#paused || now - Math.max(this.#heard, conn.heardAt) < this.watch.timeoutMs) return
    this.#timedOut = true
    conn.cancel()
    conn.close()
  }

  #wake(): void {
    const w = this.#waiter
    this.#waiter = undefined
    w?.()
  }

  /** Whether a row (or the end) can be taken without waiting. */
  get ready(): boolean {
    return (this.#queue.length > 0 && !this.#holding) || this.#done
  }

  /** Resolves when a row or the end is available. */
  wait(): Promise<void> {
    if (this.ready) return Promise.resolve()
    return new Promise((r) => (this.#waiter = r))
  }

  /** The next DataRow, or null at the end; throws the shard's error. */
  next(): Promise<Buffer | null> {
    return nextRow(this)
  }

  /** A row if one is queued, null at the end, undefined if it must wait. */
  take(): Buffer | null | undefined {
    if (this.#queue.length > 0 && !this.#holding) {
      const row = this.#queue.shift()!
      this.#passed++
      if (this.#paused && this.#queue.length < LOW_WATER) {
        this.#paused = false
        this.#heard = performance.now() // silence is counted from here, not from the pause
        this.#conn?.resume()
      }
      return row
    }
    if (this.#done) {
      if (this.#error) throw this.#error
      return null
    }
    return undefined
  }

  /**
   * The statement needs no more of this shard's rows. An edge whose reply is bounded by a LIMIT
   * (`edgeLimit`, the one it was sent) is let end it, its rows dropped, so the connection goes
   * back to the pool rather than the edge being sent a cancel and the connection dropped. An
   * edge that has not ended within DRAIN_MS (the reply's rows may take long to find) is then
   * cancelled; one that has already sent all its LIMIT allows is given fedgres.edge_timeout.
   * Without a LIMIT the shard is cancelled at once.
   */
  enough(edgeLimit: number | null): void {
    if (this.#done || this.#cancelled || this.#drainUntil > 0) return
    if (edgeLimit === null) {
      this.cancel()
      return
    }
    this.#drainUntil = performance.now() + (this.stats.rows >= edgeLimit ? this.watch.timeoutMs : DRAIN_MS)
    this.#queue.clear()
    if (this.#paused) {
      this.#paused = false
      this.#conn?.resume()
    }
  }

  /**
   * Stops the shard's work: the edge is sent a cancel, and the rest of its reply is read and
   * dropped. The connection goes back to the pool if the edge confirms the cancel within
   * DRAIN_MS, and is dropped otherwise.
   */
  cancel(reason?: PgError): void {
    if (this.#done || this.#cancelled) return
    this.#cancelled = true
    this.#cancelledAt = performance.now()
    this.#connecting?.abort()
    this.#queue.clear()
    // The statement ends now, as PostgreSQL's does: the client is not kept waiting for an edge to
    // confirm (a hung one took DRAIN_MS). The reply is drained, or the connection dropped, behind it.
    this.#error = reason ?? new PgError(SqlState.QueryCanceled, 'canceling statement due to user request')
    this.#holding = false
    this.#done = true
    this.#wake()
    const c = this.#conn
    if (c) {
      c.cancel()
      if (this.#paused) {
        this.#paused = false
        c.resume()
      }
    }
  }
}
