/**
 * Runs retention on a timer: decides which day partitions go (retention-policy), archives each
 * first when an archive dir is set, then drops it, and narrows the synopsis. It works between
 * the store's commits (each step is one store request), so ingestion goes on meanwhile; a day
 * whose archive fails is kept, and reported, and tried again on the next round.
 */
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import type { EventTable } from '../../schema/index.js'
import type { EdgeStore } from '../store/edge-store.js'
import type { PartitionInfo } from '../store/worker-protocol.js'
import { archivePartition } from './archiver.js'
import { decideRetention, type RetentionLimits } from './retention-policy.js'

export interface RetentionHooks {
  /** Called before listing: events observed from now on are noted (SynopsisTracker.beginWindow). */
  beginWindow(): void
  /** Resolves true once everything observed before beginWindow() is committed (false: timed out). */
  settled(): Promise<boolean>
  /** After a drop; `narrow` is false when settled() timed out (then only the row count is known). */
  dropped(table: EventTable, minTime: number | null, tableRows: number, narrow: boolean): void
  /** After a round that dropped something: publish the synopsis. */
  publish(): Promise<void>
}

export interface RetentionMetrics {
  partitionsDropped(reason: 'age' | 'size', n: number): void
  archiveFailed(): void
}

export interface RetentionReport {
  readonly dropped: { table: EventTable; day: string; reason: 'age' | 'size'; rows: number; archive?: string }[]
  readonly kept: { table: EventTable; day: string; why: string }[]
  readonly overBudget: boolean
}

export class RetentionRunner {
  #running: Promise<RetentionReport> | undefined

  constructor(
    private readonly store: EdgeStore,
    private readonly limits: RetentionLimits,
    private readonly archiveDir: string | undefined,
    private readonly edgeId: string,
    private readonly hooks: RetentionHooks,
    private readonly log: Logger,
    private readonly metrics?: RetentionMetrics,
  ) {}

  /** One round; concurrent calls share it. */
  run(now = Date.now()): Promise<RetentionReport> {
    this.#running ??= this.#round(now).finally(() => (this.#running = undefined))
    return this.#running
  }

  /** Resolves when no round is running. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => {})
  }

  async #round(now: number): Promise<RetentionReport> {
    this.hooks.beginWindow()
    const parts = await this.store.partitions()
    const decision = decideRetention(parts, this.limits, now)
    const report: RetentionReport = { dropped: [], kept: [], overBudget: decision.overBudget }
    if (decision.overBudget) this.log.warn('the newest stored day alone is over retention.max_bytes; it is kept', { maxBytes: this.limits.maxBytes, keptBytes: decision.keptBytes })
    if (decision.drop.length === 0) return report
    const narrow = await this.hooks.settled()
    let failed = false
    for (const { part, reason } of decision.drop) {
      if (failed) {
        report.kept.push({ table: part.table, day: part.day, why: 'an earlier archive failed' })
        continue
      }
      const done = await this.#dropOne(part, narrow)
      if (done.ok) {
        report.dropped.push({ table: part.table, day: part.day, reason, rows: done.rows, archive: done.archive })
        this.metrics?.partitionsDropped(reason, 1)
      } else {
        report.kept.push({ table: part.table, day: part.day, why: done.why })
        failed = done.archiveFailed
      }
    }
    if (report.dropped.length > 0) {
      this.log.info('retention dropped day partitions', { dropped: report.dropped.map((d) => `${d.table}/${d.day} (${d.reason}, ${d.rows} rows)`) })
      await this.hooks.publish()
    }
    return report
  }

  async #dropOne(part: PartitionInfo, narrow: boolean): Promise<{ ok: true; rows: number; archive?: string } | { ok: false; why: string; archiveFailed: boolean }> {
    let expectRows: number | null = null
    let archive: string | undefined
    if (this.archiveDir !== undefined) {
      try {
        const a = await archivePartition(this.store, part, this.archiveDir, this.edgeId)
        expectRows = a.manifest.rows
        archive = a.file
      } catch (e) {
        this.metrics?.archiveFailed()
        this.log.error('archive failed; the partition is kept and tried again next round', { table: part.table, day: part.day, dir: this.archiveDir, ...errorMeta(e) })
        return { ok: false, why: `archive failed: ${(e as Error).message}`, archiveFailed: true }
      }
    }
    const res = await this.store.dropPartition(part.table, part.day, expectRows)
    if (!res.dropped) {
      this.log.info('rows arrived in a partition while it was archived; it is kept until the next round', { table: part.table, day: part.day, archived: expectRows, now: res.rows })
      return { ok: false, why: 'rows arrived while it was archived', archiveFailed: false }
    }
    this.hooks.dropped(part.table, res.minTime, res.tableRows, narrow)
    return { ok: true, rows: res.rows, archive }
  }
}
