/**
 * The global raft-like index of the project's Consul test server, and the change notification
 * that blocking queries wait on. Real Consul stamps every committed write with the raft log
 * index; `CreateIndex`/`ModifyIndex` and `X-Consul-Index` all come from it, it starts above 0
 * and only grows, except after a snapshot restore, which `reset()` models.
 */

/** Called after every committed write; `abandoned` after a reset, when every blocked query must return. */
export type ChangeListener = (abandoned: boolean) => void

export class RaftLog {
  // Consul never reports index 0 ("it is always safe to use an index of 1").
  #index = 1
  #listeners = new Set<ChangeListener>()
  #resetHooks: ((to: number) => void)[] = []
  #zeroOnce = false

  get index(): number {
    return this.#index
  }

  /**
   * One write at the next index. `apply` returns whether the write changed state; an agent-side
   * no-op (re-registering an identical service) never reaches raft, so nothing is committed.
   * `always` commits even a no-op, as a KV write does: it goes through raft whatever its outcome.
   */
  write<T>(apply: (idx: number) => { changed: boolean; result: T }, always = false): T {
    const idx = this.#index + 1
    const { changed, result } = apply(idx)
    if (changed || always) {
      this.#index = idx
      this.#notify(false)
    }
    return result
  }

  /** How many listeners wait, i.e. how many queries are blocked right now. */
  get waiting(): number {
    return this.#listeners.size
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stores register here to pull their stored indexes down to `to`, as a restored snapshot would. */
  onReset(hook: (to: number) => void): void {
    this.#resetHooks.push(hook)
  }

  /** Makes the index go backwards (a snapshot restore); blocked queries return at once. */
  reset(to: number): void {
    if (!Number.isInteger(to) || to < 1) throw new RangeError(`resetIndex: ${to} is not an index >= 1`)
    this.#index = to
    for (const hook of this.#resetHooks) hook(to)
    this.#notify(true)
  }

  /** Wakes every blocked query without a state change: real Consul is allowed to do that. */
  wakeAll(): void {
    this.#notify(true)
  }

  /** The next response that carries `X-Consul-Index` says 0 (a fault real clients must survive). */
  injectZeroOnce(): void {
    this.#zeroOnce = true
  }

  /** The value to put in `X-Consul-Index` for a resource at `index`. */
  headerIndex(index: number): number {
    if (this.#zeroOnce) {
      this.#zeroOnce = false
      return 0
    }
    return Math.max(1, index)
  }

  #notify(abandoned: boolean): void {
    for (const l of [...this.#listeners]) l(abandoned)
  }
}

/** A stored index after a reset to `to`: nothing may claim to be newer than the log. */
export const clampIndex = (value: number, to: number) => Math.min(value, to)
