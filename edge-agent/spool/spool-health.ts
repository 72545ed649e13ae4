/**
 * What the agent tells of its spool: its depth, a disk that will not take its writes (events
 * held in memory, then dropped), and segments deleted under it (their unstored events lost),
 * as metrics, counters and logs.
 */
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import type { EdgeMetrics } from '../metrics.js'
import { SegmentLedger } from './segment-ledger.js'

export class SpoolHealth {
  /** Spool records per segment, from the first write after the store opened (see SegmentLedger). */
  ledger: SegmentLedger | undefined
  /** Events in segments deleted before the store committed them. */
  lost = 0
  /** Events dropped since the spool's writes began to fail (reported when they succeed again). */
  #droppedWhileFailing = 0

  constructor(
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
    private readonly dir: string,
  ) {}

  /** Records written and not yet committed. */
  get depth(): number {
    return this.ledger?.depth ?? 0
  }

  /** Counts from here on: every commit is of a record written since. */
  startCounting(): void {
    this.ledger = new SegmentLedger()
  }

  /**
   * The spool's writes failed (error) or work again (undefined). While they fail, received events
   * are held in memory and the write retried; once that memory is full, further events are
   * dropped and counted (KubeArmor drops them for a slow subscriber anyway, uncounted).
   */
  writeFailure(e: NodeJS.ErrnoException | undefined): void {
    this.metrics.spoolWriteFailing.set(e ? 1 : 0)
    if (e) {
      this.log.error('the spool cannot be written (is the disk full?): received events are held in memory and the write is retried; once that is full, events are dropped', { dir: this.dir, ...errorMeta(e) })
      return
    }
    this.log.warn('the spool is written again', { droppedWhileFailing: this.#droppedWhileFailing })
    this.#droppedWhileFailing = 0
  }

  /** An event dropped: the spool cannot be written and the memory holding its records is full. */
  droppedFull(held: number): void {
    if (this.#droppedWhileFailing++ === 0) this.log.error('the spool still cannot be written and its memory is full: events are being dropped', { held })
    this.metrics.dropped.inc({ reason: 'spool_write_failed' })
  }

  /** The writer found its segment deleted and went on in a new one. */
  segmentDeleted(segment: number): void {
    this.log.error('a spool segment was deleted while events were written to it: events in it that were not stored yet are lost; the spool goes on in a new segment', { dir: this.dir, segment })
  }

  /** The store moved past a deleted segment: what it had not committed is lost. */
  segmentSkipped(segment: number): void {
    const lost = this.ledger?.gone(segment)
    if (lost) {
      this.lost += lost
      this.metrics.dropped.inc({ reason: 'spool_deleted' }, lost)
    }
    if (lost !== 0) this.log.error('a spool segment was deleted before the store committed it: its events are lost', { dir: this.dir, segment, lost: lost ?? 'unknown (written before this start)' })
    this.metrics.spoolDepth.set(this.depth)
  }
}
