/**
 * Proof, while a blocking watch is parked in Consul, that what it holds is still current.
 *
 * A parked blocking read says nothing until Consul answers it. That is instant when the data
 * changes, but only while the connection lives and Consul is prompt: a connection a NAT or
 * firewall dropped without a reset, or a Consul slow under write load, keeps the poll parked for
 * its whole `wait` (30 s and more) while changes go unseen. A caller that trusted a parked poll
 * as "current now" would act on old data all that time; for the gateway, prune an edge for rows
 * it committed after publishing a wider synopsis.
 *
 * So a small read of the same index runs beside the parked poll, every `everyMs` or so: a KV
 * `keys` list collapsed by a separator into one entry, whose `X-Consul-Index` is the highest
 * ModifyIndex under the prefix (tombstones included), as the watch's own list reports it
 * (docs/consul.md §3.7, §3.8). Its answer, evaluated after it was sent, confirms the watch's data
 * as of the send time when the index is the watch's. Otherwise:
 * - a lower index: Consul went back (snapshot restore) and the parked poll, which waits for an
 *   index above the old one, would miss every change until then: the watch reads afresh;
 * - a higher one, twice while the same poll stays parked: Consul changed the data and did not
 *   answer the poll (its connection is dead, or Consul is stuck): the watch reads afresh.
 * Nothing is confirmed in either case, and a failed probe confirms nothing either, so the
 * confirmation time falls behind and the caller stops relying on the data in time.
 */
import type { Logger } from '../log.js'
import { errorMeta } from '../log.js'
import type { ConsulClient } from './consul-client.js'

/** What the probe reads of the watch it vouches for (a BlockingWatch). */
export interface WatchedIndex {
  /** The index the parked (or next) poll sends: that of the data held; 0 before the first answer. */
  readonly index: number
  /** When the poll in flight was sent; undefined between polls. */
  readonly inFlightSince: number | undefined
  /** Abandons the poll in flight and reads the full state at once. */
  reset(reason: string): void
}

export interface IndexConfirmationOptions {
  readonly client: Pick<ConsulClient, 'request'>
  readonly watch: WatchedIndex
  /** The probe's path and query: a read whose index is the watch's, with a small body. */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** A probe is sent once the last confirmation is this old (ms). */
  readonly everyMs: number
  readonly log: Logger
}

export class IndexConfirmation {
  readonly #o: IndexConfirmationOptions
  readonly #stop = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<void> | undefined
  #confirmedAt = 0
  /** The parked poll (by its send time) under which a probe last saw a higher index. */
  #higherUnder: number | undefined
  #probes = 0

  constructor(opts: IndexConfirmationOptions) {
    this.#o = opts
  }

  /** Date.now() at which the last confirming probe was sent; 0 if none has confirmed. */
  get confirmedAt(): number {
    return this.#confirmedAt
  }

  /** Probes sent so far. */
  get probes(): number {
    return this.#probes
  }

  /** Starts ticking; `since` is the caller's latest other proof (an answer of the watch). */
  start(since: () => number): void {
    const tick = () => {
      if (this.#stop.signal.aborted) return
      const w = this.#o.watch
      const due = Date.now() - Math.max(since(), this.#confirmedAt) >= this.#o.everyMs
      if (due && !this.#inFlight && w.index > 0 && w.inFlightSince !== undefined) {
        this.#inFlight = this.#probe(w.index, w.inFlightSince).finally(() => (this.#inFlight = undefined))
      }
      this.#timer = setTimeout(tick, Math.max(10, Math.floor(this.#o.everyMs / 2)))
      this.#timer.unref()
    }
    tick()
  }

  async close(): Promise<void> {
    this.#stop.abort()
    clearTimeout(this.#timer)
    await this.#inFlight
  }

  async #probe(held: number, parkedSince: number): Promise<void> {
    const o = this.#o
    const sentAt = Date.now()
    this.#probes++
    let index: number
    try {
      const res = await o.client.request('GET', o.path, { query: o.query, signal: this.#stop.signal, timeoutMs: Math.max(1000, o.everyMs * 2) })
      if (res.status !== 200 && res.status !== 404) throw new Error(`Consul answered ${res.status}`)
      if (!Number.isFinite(res.index)) throw new Error('Consul sent no X-Consul-Index')
      index = res.index
    } catch (e) {
      if (!this.#stop.signal.aborted) o.log.debug('index probe failed; the watch data is not confirmed', { path: o.path, ...errorMeta(e) })
      return
    }
    const w = o.watch
    // The watch answered (or was reset) meanwhile: this probe speaks of data no longer held.
    if (w.index !== held || w.inFlightSince !== parkedSince) return
    if (index === held) {
      this.#confirmedAt = Math.max(this.#confirmedAt, sentAt)
      this.#higherUnder = undefined
    } else if (index < held) {
      w.reset(`Consul's index went back from ${held} to ${index} while a poll was parked`)
    } else if (this.#higherUnder === parkedSince) {
      this.#higherUnder = undefined
      w.reset(`Consul's index moved from ${held} to ${index} and the parked poll was not answered`)
    } else {
      this.#higherUnder = parkedSince
    }
  }
}
