/**
 * The `rate` condition: more than `count` matching events within `window` ms.
 *
 * hit(now) records one matching event and returns true when, counting it, more than `count` hits
 * fall in the window (now − window, now] — unless the condition already fired less than `window`
 * ago. So a burst fires once, and a storm that goes on fires once per window, not on every event.
 * count 3, window 10 s: hits at 0, 1, 2 → false; at 3 → true (4 hits in 10 s); at 4…12.9 → false
 * (fired at 3); at 13 → true if 3 more hits fell in (3, 13], else false.
 *
 * Only the last count+1 hit times are kept (a ring), which is all the test needs: the oldest of
 * them is within the window exactly when more than `count` hits are.
 */
export class RateCondition {
  readonly count: number
  readonly windowMs: number
  readonly #times: Float64Array
  #next = 0
  #filled = 0
  #lastFire = Number.NEGATIVE_INFINITY

  constructor(spec: { count: number; window: number }) {
    this.count = spec.count
    this.windowMs = spec.window
    this.#times = new Float64Array(spec.count + 1)
  }

  hit(nowMs: number): boolean {
    const cap = this.#times.length
    this.#times[this.#next] = nowMs
    this.#next = (this.#next + 1) % cap
    if (this.#filled < cap) this.#filled++
    if (this.#filled < cap) return false
    const oldest = this.#times[this.#next]! // the slot written next holds the oldest kept hit
    if (nowMs - oldest >= this.windowMs) return false
    if (nowMs - this.#lastFire < this.windowMs) return false
    this.#lastFire = nowMs
    return true
  }

  /** The span of the last count+1 hits, for the alert's details. */
  get lastHits(): { readonly first: number; readonly last: number; readonly hits: number } {
    const cap = this.#times.length
    const first = this.#filled < cap ? this.#times[0]! : this.#times[this.#next]!
    const last = this.#times[(this.#next + cap - 1) % cap]!
    return { first, last, hits: this.#filled }
  }
}
