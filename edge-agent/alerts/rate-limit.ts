/**
 * A rule's `rate_limit: { max, per }`: at most `max` alerts in any window of `per` ms. Windows are
 * fixed and open with the first alert after the previous one closed (not on clock boundaries):
 * with max 3 per 1m, alerts at 0s, 1s, 2s fire, those at 3s…59.99s are suppressed, and the one at
 * 60s opens the next window. A window that suppressed anything reports its count once, when it
 * closes (by timer, or by the next alert if the clock got there first), or on flush().
 */
export class RateLimiter {
  #windowStart = Number.NEGATIVE_INFINITY
  #count = 0
  #suppressed = 0
  #timer: NodeJS.Timeout | undefined
  readonly #onSuppressed: (count: number, windowStartMs: number) => void

  /** `onSuppressed` is called once per window that suppressed alerts, with how many. */
  constructor(
    readonly max: number,
    readonly perMs: number,
    onSuppressed: (count: number, windowStartMs: number) => void,
  ) {
    this.#onSuppressed = onSuppressed
  }

  /** true: fire the alert; false: it is suppressed (and counted). */
  allow(nowMs: number): boolean {
    if (nowMs - this.#windowStart >= this.perMs) {
      this.flush()
      this.#windowStart = nowMs
      this.#count = 0
    }
    if (this.#count < this.max) {
      this.#count++
      return true
    }
    if (this.#suppressed++ === 0) {
      this.#timer = setTimeout(() => this.flush(), Math.max(0, this.#windowStart + this.perMs - nowMs))
      this.#timer.unref()
    }
    return false
  }

  /** Reports the open window's suppressed count now, if any. */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#suppressed === 0) return
    const n = this.#suppressed
    this.#suppressed = 0
    this.#onSuppressed(n, this.#windowStart)
  }
}
