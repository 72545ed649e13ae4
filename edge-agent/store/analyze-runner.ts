/**
 * Runs the ANALYZEs that AutoAnalyze says are due, in the store worker: one relation per turn of
 * the store's mutex, so queries and commits interleave with them, and again after a relation's
 * gap once ingest goes quiet.
 */
import type { PGlite } from '@electric-sql/pglite'
import type { Mutex } from '../../common/mutex.js'
import { AutoAnalyze } from './auto-analyze.js'

export class AnalyzeRunner {
  readonly stats = new AutoAnalyze()
  #running: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(
    private readonly db: PGlite,
    private readonly mutex: Mutex,
    private readonly onAnalyzed: (relation: string, ms: number) => void,
  ) {}

  /** Learns what has planner statistics (reltuples is -1 until a relation is first analyzed); `rows` are the tables' counts. */
  async track(rows: Readonly<Record<'alerts' | 'logs', number>>): Promise<void> {
    const res = await this.db.query<{ name: string; tuples: number; parent: boolean; tbl: string }>(
      `SELECT n.nspname || '.' || c.relname AS name, c.reltuples::float8 AS tuples, c.relkind = 'p' AS parent, c.relname AS tbl
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE (n.nspname = 'fedgres_parts' AND c.relkind = 'r') OR (n.nspname = 'public' AND c.relname IN ('alerts', 'logs'))`,
    )
    for (const r of res.rows) {
      const n = r.parent ? rows[r.tbl as 'alerts' | 'logs'] : Math.max(0, r.tuples)
      this.stats.track(r.name, n, r.tuples >= 0, r.parent)
    }
  }

  /** Analyzes what is due (one run at a time). */
  due(): Promise<void> {
    // `.finally` runs after the assignment even when nothing is due (the loop never awaits).
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** No further ANALYZE starts; resolves when the one running is done. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  async #loop(): Promise<void> {
    const { stats } = this
    for (let next = stats.next(performance.now()); next && !this.#stopped; next = stats.next(performance.now())) {
      const { name, sql } = next
      const t0 = performance.now()
      // A failure (the partition was just dropped) is not retried before the next gap.
      await this.mutex.run(async () => {
        if (this.#stopped) return
        await this.db.exec(sql).catch(() => this.db.exec('ROLLBACK').catch(() => {}))
      })
      stats.done(name, performance.now())
      this.onAnalyzed(name, performance.now() - t0)
    }
    // Rows that came within a relation's gap are not left unanalyzed once ingest goes quiet.
    const wait = stats.waitMs(performance.now())
    if (wait !== null && !this.#stopped && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        void this.due()
      }, wait + 10)
    }
  }
}
