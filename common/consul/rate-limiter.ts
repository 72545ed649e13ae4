/**
 * A token bucket for Consul blocking-query loops. docs/consul.md §3.8: a loop must not re-query
 * as fast as Consul answers, because under churn every write wakes every watcher; HashiCorp
 * recommends a token bucket (burst 2) over plain sleeps, so that an isolated change is seen at
 * once and only sustained churn is slowed down.
 */
import { setTimeout as sleep } from 'node:timers/promises'

export interface TokenBucketOptions {
  /** Tokens the bucket holds when full: requests allowed back to back after a quiet spell. */
  readonly burst: number
  /** One token is added every `refillMs` milliseconds, up to `burst`. */
  readonly refillMs: number
  /** Clock, for tests. */
  readonly now?: () => number
}

export class TokenBucket {
  readonly burst: number
  readonly refillMs: number
  readonly #now: () => number
  #tokens: number
  #updatedAt: number

  constructor(opts: TokenBucketOptions) {
    if (!(opts.burst >= 1) || !(opts.refillMs > 0)) throw new RangeError(`token bucket needs burst >= 1 and refillMs > 0 (got ${opts.burst}, ${opts.refillMs})`)
    this.burst = opts.burst
    this.refillMs = opts.refillMs
    this.#now = opts.now ?? Date.now
    this.#tokens = opts.burst
    this.#updatedAt = this.#now()
  }

  #refill(): void {
    const now = this.#now()
    const elapsed = Math.max(0, now - this.#updatedAt)
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed / this.refillMs)
    this.#updatedAt = now
  }

  /** Takes a token if one is there. */
  tryTake(): boolean {
    this.#refill()
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Milliseconds until a token is available (0: now). */
  delay(): number {
    this.#refill()
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) * this.refillMs)
  }

  /** Waits for a token and takes it; rejects with the signal's reason when aborted first. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      if (this.tryTake()) return
      await sleep(this.delay(), undefined, { signal })
    }
  }
}
