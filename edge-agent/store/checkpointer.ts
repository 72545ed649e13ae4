/**
 * Checkpoints for the edge's PGlite.
 *
 * PGlite runs PostgreSQL in single-user mode, where no checkpointer process exists. XLogWrite asks
 * for a checkpoint after max_wal_size only under a postmaster. So, left alone, the store would
 * checkpoint only when it is closed cleanly. Measured before this module:
 *  - pg_wal grew by about 700 bytes per event for the agent's whole life (641 MB after 900,000
 *    events, with the redo point still at the last open);
 *  - a kill -9 would make the next open replay all of it;
 *  - each new 16 MB WAL segment was created and zero-filled instead of recycled from an old one.
 *    Every fourth 4 MiB batch then took 130–290 ms instead of 55: COPY ran at 75,000 rows/s
 *    instead of 97,000.
 *
 * So the store checkpoints itself: when the WAL written since the last redo point reaches
 * `walBytes`, and also when `intervalMs` has passed with any WAL written since the last
 * checkpoint (PostgreSQL's checkpoint_timeout), which bounds a restart's redo at low rates too.
 */
import type { PGlite } from '@electric-sql/pglite'

export interface CheckpointPolicy {
  /** Checkpoint once this much WAL has been written since the last redo point. */
  readonly walBytes: number
  /** Checkpoint once this long has passed with any WAL written since the last checkpoint. */
  readonly intervalMs: number
  /** Look at the WAL position at most this often (default 1 s). */
  readonly checkMs?: number
}

export interface CheckpointDone {
  readonly cause: 'wal' | 'time'
  /** WAL written since the previous redo point. */
  readonly walBytes: number
  readonly ms: number
}

/**
 * Positions are insert positions: inside a long transaction (an import) WAL is written out only
 * when wal_buffers fill, so pg_current_wal_lsn() would lag behind what the transaction wrote.
 */
interface WalPosition {
  /** Bytes of WAL since the last checkpoint's redo point. */
  readonly sinceRedo: number
  /** The current insert position, as text (an LSN). */
  readonly lsn: string
}

export class Checkpointer {
  readonly #db: PGlite
  readonly #policy: CheckpointPolicy
  #lastMs: number
  #lastCheckMs = -Infinity
  /** The WAL position right after the last checkpoint this process ran (null: none yet). */
  #lsnAfterLast: string | null = null

  constructor(db: PGlite, policy: CheckpointPolicy, nowMs = performance.now()) {
    this.#db = db
    this.#policy = policy
    this.#lastMs = nowMs
  }

  async #position(): Promise<WalPosition> {
    const res = await this.#db.query<{ since: number; lsn: string }>(
      `SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), redo_lsn)::float8 AS since, pg_catalog.pg_current_wal_insert_lsn()::text AS lsn FROM pg_catalog.pg_control_checkpoint()`,
    )
    const r = res.rows[0]!
    return { sinceRedo: r.since, lsn: r.lsn }
  }

  /** Why a checkpoint is due now, or null. */
  #cause(pos: WalPosition, nowMs: number): CheckpointDone['cause'] | null {
    if (pos.sinceRedo >= this.#policy.walBytes) return 'wal'
    const written = this.#lsnAfterLast === null ? pos.sinceRedo > 0 : pos.lsn !== this.#lsnAfterLast
    return written && nowMs - this.#lastMs >= this.#policy.intervalMs ? 'time' : null
  }

  /**
   * Runs CHECKPOINT if one is due (the caller holds the store's mutex). The WAL position is read
   * at most once per `checkMs`: reading it opens pg_control.
   */
  async runIfDue(nowMs = performance.now()): Promise<CheckpointDone | null> {
    if (nowMs - this.#lastCheckMs < (this.#policy.checkMs ?? 1000)) return null
    this.#lastCheckMs = nowMs
    const pos = await this.#position()
    const cause = this.#cause(pos, nowMs)
    if (!cause) return null
    const t0 = performance.now()
    await this.#db.exec('CHECKPOINT')
    const ms = performance.now() - t0
    this.#lastMs = nowMs + ms
    this.#lsnAfterLast = (await this.#position()).lsn
    return { cause, walBytes: pos.sinceRedo, ms }
  }
}
