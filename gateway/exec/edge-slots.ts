/**
 * How many connections a gateway holds open to one edge: connecting, running, or idle. An edge
 * takes 200 connections, and a gateway takes 500 clients, each of whose statements would open its
 * own connection to every edge it asks: past the edge's limit every gateway was refused (53300,
 * then 08006 to the client). An edge runs its statements one at a time, so connections past a few
 * add queueing there, not speed. A statement that finds every slot taken waits here for one, in
 * the order it came, for as long as the edge keeps finishing statements: it gives up (the edge
 * failing) only after `waitMs` in which no connection of the edge came free.
 */
import { EdgeUnreachable, type EdgeConnection } from './edge-connection.js'

/** A statement waiting for a slot: handed a connection with its settings, or let open one. */
interface Waiter {
  readonly settings: string
  readonly granted: (c: EdgeConnection | undefined) => void
  readonly failed: (e: Error) => void
}

export class EdgeSlots {
  /** Connections open or opening. */
  open = 0
  readonly #waiters: Waiter[] = []
  /** When a connection last came free (performance.now()). */
  #freedAt = 0

  constructor(
    readonly edgeId: string,
    readonly limit: number,
  ) {}

  get full(): boolean {
    return this.open >= this.limit
  }

  get waiting(): number {
    return this.#waiters.length
  }

  /**
   * Waits for a slot: resolves with a connection handed over with these settings, or with
   * undefined when the caller may open one (its slot already counted in `open`).
   */
  wait(settings: string, waitMs: number, signal?: AbortSignal): Promise<EdgeConnection | undefined> {
    return new Promise((resolve, reject) => {
      const since = performance.now()
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const at = this.#waiters.indexOf(w)
        if (at >= 0) this.#waiters.splice(at, 1)
      }
      const onAbort = () => {
        done()
        reject(new EdgeUnreachable('cancelled'))
      }
      // Given up only after waitMs without a connection coming free: a busy edge that keeps
      // answering is waited for, a stuck one is not.
      const check = () => {
        const quiet = performance.now() - Math.max(since, this.#freedAt)
        if (quiet < waitMs) {
          timer = setTimeout(check, waitMs - quiet)
          return
        }
        done()
        reject(new EdgeUnreachable(`all ${this.limit} connections to edge ${this.edgeId} stayed busy for ${waitMs} ms`))
      }
      const w: Waiter = {
        settings,
        granted: (c) => {
          done()
          resolve(c)
        },
        failed: (e) => {
          done()
          reject(e)
        },
      }
      this.#waiters.push(w)
      signal?.addEventListener('abort', onAbort, { once: true })
      timer = setTimeout(check, waitMs)
    })
  }

  /**
   * A connection finished its statement: handed to the first waiter opened with the same
   * settings. False when no waiter wants it (the caller keeps it idle, or closes it when
   * `othersWait` says a waiter needs its slot for other settings).
   */
  handOver(c: EdgeConnection, settings: string): boolean {
    // Every statement's release comes here: with no one waiting there is nothing to time.
    if (this.#waiters.length === 0) return false
    this.#freedAt = performance.now()
    const w = this.#waiters.find((x) => x.settings === settings)
    if (!w) return false
    w.granted(c)
    return true
  }

  /** A connection closed (or failed to open): its slot goes to the first waiter, who opens one. */
  freed(): void {
    this.open--
    this.#freedAt = performance.now()
    const w = this.#waiters[0]
    if (!w) return
    this.open++
    w.granted(undefined)
  }

  /** The pool closes: every waiter fails. */
  closeAll(): void {
    for (const w of [...this.#waiters]) w.failed(new EdgeUnreachable('the gateway is shutting down'))
  }
}
