/**
 * A Consul blocking-query loop (docs/consul.md §3.8) that can be stopped at once: each poll is a
 * plain HTTP request with an AbortSignal, so `close()` aborts the poll in flight (the npm
 * client's `watch().end()` does not, §4.3). It applies the index rules, rate-limits itself with
 * a token bucket, backs off exponentially on errors, and reports every successful answer, so
 * that the caller knows how current its data is.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../log.js'
import { ConsulHttpError, goDuration, type ConsulClient } from './consul-client.js'
import { TokenBucket } from './rate-limiter.js'

/**
 * The next `index` to send after a response carrying `X-Consul-Index: returned`, and whether
 * the response may carry new data. §3.8 (and grafana/dskit's `checkLastIndex`):
 * - 0 is a Consul bug that would make every later query return at once: continue from 1
 *   ("it is always safe to use an index of 1");
 * - an index lower than before (snapshot restore, a KV prefix losing its newest key): reset
 *   to 0, i.e. one non-blocking read of the full current state;
 * - the same index: the wait ran out (or a spurious wake-up), nothing changed;
 * - otherwise: a change, maybe (callers still diff, since a return is no guarantee of one).
 */
export function nextIndex(previous: number, returned: number): { index: number; changed: boolean } {
  if (returned === 0) return { index: 1, changed: true }
  if (returned < previous) return { index: 0, changed: true }
  if (returned === previous) return { index: previous, changed: false }
  return { index: returned, changed: true }
}

/** How long Consul may hold a blocking read: `wait` plus up to wait/16 of jitter (§3.8). */
const maxHold = (waitMs: number) => Math.ceil(waitMs + waitMs / 16)

/**
 * The client-side timeout of a blocking read: anything shorter than `maxHold` would cut healthy
 * polls; 2 s more covers the round trip. A connection that stays silent past this is dead.
 */
export const blockingTimeout = (waitMs: number) => maxHold(waitMs) + 2000

/**
 * Rate limits for a gateway watch (§3.8 asks for a burst-2 token bucket). One token per 400 ms:
 * a lone change is seen at once (a full bucket); under churn the watch answers about 2.5 times a
 * second, so a change reaches the gateway within ~0.4 s plus the answer's transfer, inside the
 * edge's `publish_grace` (1.5 s, the time an edge waits after publishing a widened synopsis before
 * committing the rows it covers), and every answer confirms the synopses it holds well within
 * SYNOPSIS_MAX_AGE_MS (1.4 s). Each answer is the whole KV prefix (8.5 MB at 5,000 edges): one
 * every 100 ms cost a gateway a third of a core, and Consul as much, at that size. Slowing to
 * §3.8's "one poll per 15 s under churn" would break the edges' rule.
 */
export const DEFAULT_WATCH_RATE = { burst: 2, refillMs: 400 } as const
/** Error backoff: 250 ms doubling to 10 s (with ±20% jitter), so an outage costs Consul little. */
export const DEFAULT_WATCH_BACKOFF = { initialMs: 250, maxMs: 10_000 } as const

export interface BlockingWatchOptions {
  /** For logs: `health` or `kv`. */
  readonly name: string
  readonly client: ConsulClient
  readonly path: string
  readonly query?: Readonly<Record<string, string>>
  /** The `wait` sent to Consul, ms. */
  readonly waitMs: number
  /** A 404 is a valid empty answer (a KV prefix with no keys, §3.7) rather than an error. */
  readonly notFoundIsEmpty?: boolean
  /**
   * An answer Consul filtered by ACLs is an error, not data: what the token cannot see would be
   * taken for absent (a 404 "empty" KV list is one).
   */
  readonly refuseFiltered?: boolean
  readonly rate?: { readonly burst: number; readonly refillMs: number }
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number }
  /** Every successful answer; `body` undefined for an accepted 404. A throw counts as an error. */
  readonly onData: (body: string | undefined, changed: boolean) => void
  /** Every failed poll, with the number of failures in a row. */
  readonly onError: (err: unknown, failures: number) => void
  readonly log: Logger
}

export class BlockingWatch {
  readonly #opts: BlockingWatchOptions
  readonly #bucket: TokenBucket
  readonly #stop = new AbortController()
  #index = 0
  #failures = 0
  #requests = 0
  #lastSuccessAt: number | undefined
  #inFlightSince: number | undefined
  /** Aborts only the poll in flight (reset), not the loop. */
  #pollAbort: AbortController | undefined
  #loop: Promise<void> | undefined

  constructor(opts: BlockingWatchOptions) {
    this.#opts = opts
    this.#bucket = new TokenBucket(opts.rate ?? DEFAULT_WATCH_RATE)
  }

  /** Requests sent so far. */
  get requests(): number {
    return this.#requests
  }

  /** The index the next poll will send. */
  get index(): number {
    return this.#index
  }

  /** Date.now() at which the last successful answer's headers arrived (what it says held then). */
  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt
  }

  /** Date.now() at which the poll in flight was sent; undefined between polls. */
  get inFlightSince(): number | undefined {
    return this.#inFlightSince
  }

  /** The last poll succeeded (so the next, if not yet sent, is only waiting for a token). */
  get healthy(): boolean {
    return this.#lastSuccessAt !== undefined && this.#failures === 0 && !this.#stop.signal.aborted
  }

  get waitMs(): number {
    return this.#opts.waitMs
  }

  start(): void {
    this.#loop ??= this.#run().catch((e: unknown) => {
      // #run handles its own errors; this is only a last resort against an unhandled rejection.
      if (!this.#stop.signal.aborted) this.#opts.log.error('Consul watch stopped unexpectedly', { watch: this.#opts.name, err: String(e) })
    })
  }

  /**
   * Abandons the poll in flight, if any, and reads the full state next (index 0), as after an
   * index that went back: for a poll Consul holds but will not answer (index-confirmation.ts).
   */
  reset(reason: string): void {
    if (this.#stop.signal.aborted) return
    this.#opts.log.info('Consul watch reads the full state again', { watch: this.#opts.name, reason })
    this.#index = 0
    this.#pollAbort?.abort()
  }

  /** Aborts the poll in flight and resolves once the loop has exited. */
  async close(): Promise<void> {
    this.#stop.abort()
    await this.#loop
  }

  async #run(): Promise<void> {
    const o = this.#opts
    const signal = this.#stop.signal
    while (!signal.aborted) {
      try {
        await this.#bucket.take(signal)
      } catch {
        return // aborted
      }
      try {
        await this.#poll(signal)
      } catch (err) {
        if (signal.aborted) return
        this.#failures++
        try {
          o.onError(err, this.#failures)
        } catch (e) {
          o.log.error('Consul watch error handler failed', { watch: o.name, err: String(e) })
        }
        const base = Math.min(o.backoff?.maxMs ?? DEFAULT_WATCH_BACKOFF.maxMs, (o.backoff?.initialMs ?? DEFAULT_WATCH_BACKOFF.initialMs) * 2 ** (this.#failures - 1))
        try {
          await sleep(base * (0.8 + Math.random() * 0.4), undefined, { signal })
        } catch {
          return // aborted
        }
      }
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    const o = this.#opts
    // Index 0 means "answer now" (first read, or after a reset); `wait` only counts with an index.
    const blocking = this.#index > 0
    const query = { ...o.query, ...(blocking ? { index: String(this.#index), wait: goDuration(o.waitMs) } : {}) }
    this.#requests++
    this.#inFlightSince = Date.now()
    const pollAbort = (this.#pollAbort = new AbortController())
    try {
      let res
      try {
        res = await o.client.request('GET', o.path, { query, signal: AbortSignal.any([signal, pollAbort.signal]), timeoutMs: blockingTimeout(o.waitMs) })
      } catch (e) {
        if (pollAbort.signal.aborted && !signal.aborted) return // reset: poll again at once
        throw e
      }
      if (res.filtered && o.refuseFiltered) {
        throw new ConsulHttpError(403, 'results filtered by ACLs', `watch ${o.name}: Consul filtered the answer by ACLs (the token lacks read access to part of ${o.path})`)
      }
      const empty = res.status === 404 && o.notFoundIsEmpty === true
      if (res.status !== 200 && !empty) throw new ConsulHttpError(res.status, res.body, `watch ${o.name}`)
      // Without the header this is no blocking endpoint (or a proxy stripped it): polling on
      // would spin, so it is an error like any other (and backs off).
      if (!Number.isFinite(res.index)) throw new Error(`watch ${o.name}: Consul sent no X-Consul-Index`)
      const next = nextIndex(this.#index, res.index)
      if (res.index === 0) o.log.debug('Consul sent X-Consul-Index 0; continuing from 1', { watch: o.name })
      else if (next.index === 0) o.log.info('Consul index went backwards; reading the full state again', { watch: o.name, from: this.#index, to: res.index })
      // State first, so that `healthy` and `lastSuccessAt` are already true inside onData.
      const before = { failures: this.#failures, lastSuccessAt: this.#lastSuccessAt }
      this.#index = next.index
      this.#lastSuccessAt = res.answeredAt
      this.#failures = 0
      try {
        o.onData(empty ? undefined : res.body, next.changed)
      } catch (e) {
        // Data the caller could not use: not a success; read everything again after the backoff.
        this.#failures = before.failures
        this.#lastSuccessAt = before.lastSuccessAt
        this.#index = 0
        throw e
      }
    } finally {
      this.#inFlightSince = undefined
      this.#pollAbort = undefined
    }
  }
}
