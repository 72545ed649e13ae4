/**
 * Sends outbox alerts to their sinks: one lane per sink, one send in flight per lane, oldest
 * first.
 *
 * A failed send puts the whole lane to sleep for a backoff (backoff.ts; at least the receiver's
 * Retry-After, up to the cap): a receiver that is down gets one attempt per delay, not one per
 * queued alert. A transient failure retries the same alert; a rejected one moves it to the back
 * of the lane so the alerts behind it get their turn (see FailureClass). A success resets the
 * backoff and marks the alert done for that sink in the outbox.
 */
import type { Logger } from '../../common/log.js'
import { backoffDelay, type BackoffPolicy } from './backoff.js'
import type { Outbox } from './outbox.js'
import { asDeliveryError, type AlertSink, type FailureClass } from './sink.js'

interface Lane {
  readonly sink: AlertSink
  readonly queue: number[]
  inFlight: Promise<void> | undefined
  timer: NodeJS.Timeout | undefined
  failures: number
}

export interface DispatcherOptions {
  readonly sinks: ReadonlyMap<string, AlertSink>
  readonly outbox: Outbox
  readonly backoff: BackoffPolicy
  readonly log: Logger
  readonly onDelivered: (sink: string) => void
  readonly onFailed: (sink: string, failure: FailureClass) => void
}

export class Dispatcher {
  readonly #opts: DispatcherOptions
  readonly #lanes = new Map<string, Lane>()
  #started = false
  #stopped = false

  constructor(opts: DispatcherOptions) {
    this.#opts = opts
    for (const [name, sink] of opts.sinks) this.#lanes.set(name, { sink, queue: [], inFlight: undefined, timer: undefined, failures: 0 })
  }

  /** Alert `seq` (already durable in the outbox) is to go to `sinks`. */
  enqueue(seq: number, sinks: Iterable<string>): void {
    for (const name of sinks) {
      const lane = this.#lanes.get(name)
      if (!lane) continue
      lane.queue.push(seq)
      this.#pump(name, lane)
    }
  }

  start(): void {
    this.#started = true
    for (const [name, lane] of this.#lanes) this.#pump(name, lane)
  }

  /** Alerts waiting per sink (including those being sent), from the outbox. */
  pending(): Map<string, number> {
    const counts = new Map([...this.#lanes.keys()].map((name) => [name, 0]))
    for (const e of this.#opts.outbox.entries()) {
      for (const sink of e.pending) {
        const n = counts.get(sink)
        if (n !== undefined) counts.set(sink, n + 1)
      }
    }
    return counts
  }

  /** Stops retrying, waits for the sends in flight to finish, and closes the sinks. */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const lane of this.#lanes.values()) clearTimeout(lane.timer)
    await Promise.allSettled([...this.#lanes.values()].map((l) => l.inFlight))
    for (const lane of this.#lanes.values()) lane.sink.close()
  }

  #pump(name: string, lane: Lane): void {
    if (!this.#started || this.#stopped || lane.inFlight || lane.timer) return
    // Skip alerts that were dropped from the outbox (queue full) while they waited.
    while (lane.queue.length > 0 && !this.#opts.outbox.get(lane.queue[0]!)?.pending.has(name)) lane.queue.shift()
    const seq = lane.queue[0]
    if (seq === undefined) return
    const alert = this.#opts.outbox.get(seq)!.alert
    lane.inFlight = lane.sink.send(alert).then(
      () => this.#sent(name, lane, seq),
      (e: unknown) => this.#failed(name, lane, seq, e),
    )
  }

  #sent(name: string, lane: Lane, seq: number): void {
    lane.inFlight = undefined
    if (lane.queue[0] === seq) lane.queue.shift()
    this.#opts.outbox.settle(seq, name)
    this.#opts.onDelivered(name)
    if (lane.failures > 0) this.#opts.log.info('alert sink recovered', { sink: name, failedAttempts: lane.failures })
    lane.failures = 0
    this.#pump(name, lane)
  }

  #failed(name: string, lane: Lane, seq: number, e: unknown): void {
    lane.inFlight = undefined
    const err = asDeliveryError(e)
    lane.failures++
    this.#opts.onFailed(name, err.failure)
    if (err.failure === 'rejected' && lane.queue[0] === seq && lane.queue.length > 1) lane.queue.push(lane.queue.shift()!)
    const policy = this.#opts.backoff
    const delay = Math.max(backoffDelay(policy, lane.failures), Math.min(err.retryAfterMs ?? 0, policy.capMs))
    const meta = { sink: name, seq, alertId: this.#opts.outbox.get(seq)?.alert.id, failure: err.failure, error: err.message, failedAttempts: lane.failures, retryInMs: Math.round(delay) }
    // The first failure of an outage and every rejection are worth a warning; the retries are not.
    if (lane.failures === 1 || err.failure === 'rejected') this.#opts.log.warn('alert not delivered; will retry', meta)
    else this.#opts.log.debug('alert not delivered; will retry', meta)
    if (this.#stopped) return
    lane.timer = setTimeout(() => {
      lane.timer = undefined
      this.#pump(name, lane)
    }, delay)
    lane.timer.unref()
  }
}
