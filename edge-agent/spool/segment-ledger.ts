/**
 * The spool's records per segment: how many the agent wrote into each since it started, and how
 * many of them the store has committed (stored or rejected). From it come the spool's depth and
 * the records a segment deleted under the agent took with it.
 */
export class SegmentLedger {
  readonly #segments = new Map<number, { written: number; done: number }>()

  #entry(segment: number): { written: number; done: number } {
    let e = this.#segments.get(segment)
    if (!e) this.#segments.set(segment, (e = { written: 0, done: 0 }))
    return e
  }

  /** `records` were written into `segment`. */
  written(segment: number, records: number): void {
    this.#entry(segment).written += records
  }

  /** A batch of `records` from `segment` was committed; segments before it are behind the store now. */
  committed(segment: number, records: number): void {
    this.#entry(segment).done += records
    for (const s of this.#segments.keys()) if (s < segment) this.#segments.delete(s)
  }

  /** Records written and not yet committed. */
  get depth(): number {
    let n = 0
    for (const e of this.#segments.values()) n += Math.max(0, e.written - e.done)
    return n
  }

  /** `segment` was deleted before it was all committed: the records it took (undefined if none was written to it since the agent started). */
  gone(segment: number): number | undefined {
    const e = this.#segments.get(segment)
    this.#segments.delete(segment)
    return e && e.written > 0 ? Math.max(0, e.written - e.done) : undefined
  }
}
