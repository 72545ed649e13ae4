/**
 * The store worker's commit loop: commits spool batches until the committed position reaches the
 * target the main thread advanced it to, one pump at a time. The group commit decides when a
 * partial batch may go; below the disk floor nothing is tried; after a failure the loop is tried
 * again later, even if no new event arrives.
 */
import type { Mutex } from '../../common/mutex.js'
import { comparePositions, type SpoolPosition } from '../spool/spool-files.js'
import type { Committer } from './committer.js'
import type { DiskFloor } from './disk-floor.js'
import type { GroupCommit } from './group-commit.js'
import type { FromWorker } from './worker-protocol.js'

/** What the loop reads of the store worker, as it is at each step. */
export interface CommitPumpHost {
  readonly mutex: Mutex
  /** The store's row counts, which each commit adds to. */
  readonly rows: { alerts: number; logs: number }
  readonly committer: Committer | undefined
  readonly floor: DiskFloor | undefined
  /** Set once PGlite failed in a way it does not recover from in-process: nothing is tried then. */
  readonly poisoned: string | undefined
  readonly closing: boolean
  post(m: FromWorker): void
  /** After each committed batch. */
  afterBatch(): Promise<void>
  /** After a failed commit, before a retry is scheduled (unless `poisoned` is set by then). */
  failed(e: unknown): Promise<void>
}

const LOW_SPACE_RETRY_MS = 1000

export class CommitPump {
  /** How far the store may commit. */
  target: SpoolPosition = { segment: 1, offset: 0 }
  /** The synopsis to record with the next commit. */
  pendingSynopsis: unknown
  group: GroupCommit | undefined
  #pumping: Promise<void> | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #retryMs = 250

  constructor(private readonly host: CommitPumpHost) {}

  /**
   * Retries the commit loop later even if no new event arrives (a quiet node after the disk is
   * freed): after a failed commit with a backoff up to 30 s; while the disk is below the floor every
   * second, since that check is one statfs and nothing is tried (the backoff made a freed disk wait
   * up to 30 s).
   */
  #scheduleRetry(lowSpace = false): void {
    if (this.#retryTimer || this.host.closing) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      void this.pump()
    }, lowSpace ? LOW_SPACE_RETRY_MS : this.#retryMs)
    if (!lowSpace) this.#retryMs = Math.min(this.#retryMs * 2, 30_000)
  }

  /** Cancels a scheduled retry. */
  stopRetry(): void {
    clearTimeout(this.#retryTimer)
  }

  /** Spool bytes ready to commit (a new segment counts as a full batch). */
  #readyBytes(): number {
    const committer = this.host.committer
    if (!committer) return 0
    const from = committer.committed
    return this.target.segment > from.segment ? Infinity : this.target.offset - from.offset
  }

  /** True, with the group commit's wait started, when only a full batch may be committed now. */
  #holdForFullBatch(): boolean {
    const ready = this.#readyBytes()
    if (!this.group?.fullBatchOnly(ready)) return false
    this.group.arm(ready)
    return true
  }

  /** Commits now if a full batch is ready, else once the group commit's wait is over. */
  schedulePump(): void {
    if (!this.#holdForFullBatch()) void this.pump()
  }

  /** Commits batches until the committed position reaches the target. One pump runs at a time. */
  pump(): Promise<void> {
    this.#pumping ??= this.#commitLoop().finally(() => {
      this.#pumping = undefined
    })
    return this.#pumping
  }

  async #commitLoop(): Promise<void> {
    const { host } = this
    // Yield first, so `pumping` is set before this loop can finish.
    await Promise.resolve()
    try {
      while (host.committer && comparePositions(host.committer.committed, this.target) < 0) {
        if (host.poisoned) return
        if (this.#holdForFullBatch()) break
        const short = host.floor?.shortfall('the store is paused; events wait in the spool')
        if (short) {
          // Not even tried: a failed attempt writes WAL of its own, and a WAL segment that cannot be made hangs PGlite.
          host.post({ kind: 'fatal', error: { message: short } })
          this.#scheduleRetry(true)
          return
        }
        this.group?.committing()
        const done = await host.mutex.run(async () => {
          const batch = host.committer!.nextBatch(this.target)
          if (!batch) return false
          const t0 = performance.now()
          const synopsis = this.pendingSynopsis
          const res = await host.committer!.commit(batch, synopsis)
          if (synopsis === this.pendingSynopsis) this.pendingSynopsis = undefined
          host.rows.alerts += res.rowsByTable.alerts
          host.rows.logs += res.rowsByTable.logs
          host.post({ kind: 'committed', position: host.committer!.committed, rows: { ...host.rows }, batchRows: res.rows, batchRecords: batch.rows, batchMs: performance.now() - t0 })
          if (res.rejected > 0) host.post({ kind: 'rejected', rows: res.rejected, error: res.rejectError ?? '' })
          return true
        })
        if (!done) break
        this.#retryMs = 250
        await host.afterBatch()
      }
    } catch (e) {
      await host.failed(e)
      if (!host.poisoned) this.#scheduleRetry()
    }
  }

  /** Waits until nothing is left to commit below the target (advances may arrive meanwhile). */
  async settle(): Promise<void> {
    const { host } = this
    if (this.group) this.group.draining = true
    try {
      while (host.committer && comparePositions(host.committer.committed, this.target) < 0) {
        const before = host.committer.committed
        await this.pump()
        if (comparePositions(host.committer.committed, before) === 0) break // nothing committable (e.g. target past the spool's end)
      }
      await this.#pumping
    } finally {
      if (this.group) this.group.draining = false
    }
  }
}
