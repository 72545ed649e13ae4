/**
 * fedgres.edge_timeout: how long an edge may stay silent before its shard gives up on it. One
 * ticker checks every shard in flight, every TICK_MS. A timer per shard, or per fan-out, was set
 * and cleared for each statement: Node keeps timers in lists by duration, and making and dropping
 * the list for each statement cost ~10 µs, the most of any one thing a top-N did at the gateway.
 */
export interface Watched {
  /**
   * Gives up on the shard's edge if it has been silent for the timeout at `now`. Silence counts
   * only while the shard waits on an edge's reply (not while connecting, or with reading paused).
   */
  checkSilence(now: number): void
}

/** How often silences are checked: a silent edge is given up at most this long after its timeout. */
export const TICK_MS = 50
/** Ticks with nothing to watch before the ticker stops (it starts again with the next shard). */
const IDLE_TICKS = 20

/** The watches with a shard in flight. */
const watching = new Set<SilenceWatch>()
let ticker: NodeJS.Timeout | undefined
let idle = 0

function tick(): void {
  if (watching.size === 0) {
    if (++idle >= IDLE_TICKS) {
      clearInterval(ticker)
      ticker = undefined
    }
    return
  }
  idle = 0
  const now = performance.now()
  for (const w of watching) w.check(now)
}

/** The shards of one fetch, all with the statement's fedgres.edge_timeout. */
export class SilenceWatch {
  readonly #shards = new Set<Watched>()

  constructor(readonly timeoutMs: number) {}

  /** `shard` starts; it is watched until removed. */
  add(shard: Watched): void {
    this.#shards.add(shard)
    watching.add(this)
    ticker ??= setInterval(tick, TICK_MS).unref()
  }

  /** `shard` has ended. */
  remove(shard: Watched): void {
    this.#shards.delete(shard)
    if (this.#shards.size === 0) watching.delete(this)
  }

  check(now: number): void {
    for (const s of this.#shards) s.checkSilence(now)
  }
}
