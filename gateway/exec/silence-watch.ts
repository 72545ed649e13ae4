/**
 * fedgres.edge_timeout for a fan-out: how long an edge may stay silent. One timer watches every
 * shard of a fetch, where one timer per shard was set and cleared for each of them (~2 µs a
 * shard, the most of any one thing a 64-edge top-N did at the gateway).
 */
export interface Watched {
  /**
   * How many ms the shard may still stay silent at `now` (it gives up on its edge itself when
   * none are left), or undefined while it waits on no edge's reply (connecting, or its reader paused).
   */
  silenceLeft(now: number): number | undefined
}

export class SilenceWatch {
  readonly #shards = new Set<Watched>()
  #timer: NodeJS.Timeout | undefined

  constructor(readonly timeoutMs: number) {}

  /** `shard` starts; it is watched until removed. */
  add(shard: Watched): void {
    this.#shards.add(shard)
    this.#timer ??= setTimeout(this.#tick, this.timeoutMs)
  }

  /** `shard` has ended. */
  remove(shard: Watched): void {
    this.#shards.delete(shard)
    if (this.#shards.size === 0 && this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
  }

  readonly #tick = (): void => {
    const now = performance.now()
    let next = this.timeoutMs
    for (const s of this.#shards) {
      const left = s.silenceLeft(now)
      if (left !== undefined && left > 0) next = Math.min(next, left)
    }
    this.#timer = this.#shards.size > 0 ? setTimeout(this.#tick, Math.max(1, Math.ceil(next))) : undefined
  }
}
