/**
 * The write-ahead rule: a spooled row that widens the synopsis is committed only once the widened
 * synopsis is published and gateways had `publish_grace` to learn of it. A gateway that prunes by
 * the synopsis it holds can then never miss a committed row.
 *
 * The spool tells this how far its records are on disk (`flushed`); this tells the store how far it
 * may commit (`advance`), publishing first whenever the tracker saw a value outside the last
 * published synopsis.
 */
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import type { EventTable } from '../../schema/index.js'
import type { Synopsis } from '../../schema/synopsis.js'
import type { EdgeMetrics } from '../metrics.js'
import type { SpoolPosition } from '../spool/spool-files.js'
import type { EdgeStore } from '../store/edge-store.js'
import type { SynopsisPublisher } from './publisher.js'
import type { SynopsisTracker } from './synopsis-tracker.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class WriteAhead {
  #publishing = false
  #stopped = false
  #spoolEnd: SpoolPosition
  #last: Synopsis | undefined

  constructor(
    private readonly tracker: SynopsisTracker,
    private readonly publisher: SynopsisPublisher,
    private readonly store: EdgeStore,
    private readonly graceMs: number,
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
    spoolEnd: SpoolPosition,
  ) {
    this.#spoolEnd = spoolEnd
  }

  /** The last synopsis published. */
  get last(): Synopsis | undefined {
    return this.#last
  }

  /** Publishes what the store already holds, then lets it commit what the spool holds. Not awaited by the agent: with Consul down the sources must still connect. */
  start(): void {
    void this.#publishThenCommit()
  }

  /** Records up to `end` are on disk. Commit them now, or after publishing a widened synopsis. */
  flushed(end: SpoolPosition): void {
    this.#spoolEnd = end
    if (this.#publishing) return
    if (this.tracker.dirty) void this.#publishThenCommit()
    else this.store.advance(end)
  }

  /** Publishes the row counts alone when they moved since the last synopsis (for fedgres.edges). */
  refreshCounts(stored: Record<EventTable, number>): void {
    const published = this.#last?.tables
    const moved = !published || published.alerts.rows !== stored.alerts || published.logs.rows !== stored.logs
    if (!this.#publishing && moved) void this.#publishNow()
  }

  /** Waits for a publish under way, then publishes (and commits behind it) what the tracker holds that is not out yet. */
  async settle(): Promise<void> {
    while (this.#publishing) await sleep(20)
    if (this.tracker.dirty && !this.#stopped) await this.#publishThenCommit()
  }

  /** On stop: publishes once more if needed (failing if it cannot) and lets the store commit up to `end`. */
  async finish(end: SpoolPosition): Promise<void> {
    this.#stopped = true
    while (this.#publishing) await sleep(20)
    if (!this.tracker.dirty) {
      this.store.advance(end)
      return
    }
    const synopsis = this.tracker.snapshot()
    await this.publisher.publish(synopsis)
    await this.store.publishLocal(synopsis)
    this.store.advance(end, synopsis)
  }

  /** Stops retrying publishes (the agent is stopping). */
  stop(): void {
    this.#stopped = true
  }

  async #publishThenCommit(): Promise<void> {
    this.#publishing = true
    try {
      const upTo = this.#spoolEnd
      const synopsis = await this.#publishNow()
      if (!synopsis) return // not published: nothing past the last published synopsis may be committed
      // Gateways learn of the new synopsis within their watch or poll delay; wait that out.
      await sleep(this.graceMs)
      this.store.advance(upTo, synopsis)
    } finally {
      this.#publishing = false
    }
    if (this.#stopped) return
    if (this.tracker.dirty) void this.#publishThenCommit()
    else this.store.advance(this.#spoolEnd)
  }

  /** Publishes the current synopsis, retrying until it is out or the agent stops. */
  async #publishNow(): Promise<Synopsis | undefined> {
    const synopsis = this.tracker.snapshot()
    for (let attempt = 0; ; attempt++) {
      try {
        await this.publisher.publish(synopsis)
        await this.store.publishLocal(synopsis)
        this.#last = synopsis
        this.metrics.synopsisPublishes.inc({ outcome: 'ok' })
        return synopsis
      } catch (e) {
        this.metrics.synopsisPublishes.inc({ outcome: 'error' })
        this.tracker.dirty = true
        if (this.#stopped) return undefined
        if (attempt === 0) this.log.warn('synopsis not published; rows that widen it stay in the spool', errorMeta(e))
        await sleep(Math.min(30_000, 500 * 2 ** attempt))
      }
    }
  }
}
