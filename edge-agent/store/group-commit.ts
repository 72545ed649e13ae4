/**
 * Group commit for the store: a batch is committed once a full one (`batchBytes`) is ready, or
 * once `waitMs` has passed since records became ready. Each commit has a fixed cost (its
 * transaction, the spool read, the position update): committed as soon as each spool write
 * arrived, 50,000 events/s came in about 230 commits a second of about 210 events, and the store
 * used 15 µs of CPU per event instead of about 11.
 */
export class GroupCommit {
  #timer: NodeJS.Timeout | undefined
  /** Set when the timer fired: the next batch is committed even if it is not full. */
  #flushPartial = false
  /** Set while a drain or close commits everything. */
  draining = false

  constructor(
    readonly batchBytes: number,
    readonly waitMs: number,
    /** Called when a partial batch has waited long enough. */
    private readonly onDue: () => void,
  ) {}

  /** True when, with `ready` bytes waiting, only a full batch may be committed now. */
  fullBatchOnly(ready: number): boolean {
    return this.waitMs > 0 && !this.draining && !this.#flushPartial && ready < this.batchBytes
  }

  /** Starts the wait for `ready` bytes (if any, and if not already waiting). */
  arm(ready: number): void {
    if (this.#timer || ready <= 0) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#flushPartial = true
      this.onDue()
    }, this.waitMs)
  }

  /** A batch is being committed: a partial one was let through. */
  committing(): void {
    this.#flushPartial = false
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
