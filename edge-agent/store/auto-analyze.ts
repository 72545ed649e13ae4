/**
 * Planner statistics for the edge's tables. PGlite runs PostgreSQL without autovacuum, so
 * nothing would ever ANALYZE the tables, and every query would be planned blind: a join of
 * alerts and logs for one host took 1.8 s instead of 45 ms on 26,000 events. This keeps
 * autovacuum's rule (analyze once 50 rows + 10% of the relation changed) for each day
 * partition, and for each table's parent, which autovacuum itself never analyzes.
 *
 * Pure bookkeeping: the store worker tells it what was committed and runs what it says is due.
 */

/** autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults. */
const THRESHOLD = 50
const SCALE = 0.1
/**
 * The sample size: default_statistics_target 10 (3,000 rows) instead of 100. On PGlite a
 * 26,000-row partition takes 49 ms to analyze at 10 and 433 ms at 100, under the store's mutex.
 */
export const STATISTICS_TARGET = 10

interface Relation {
  /** Rows it holds (kept up from commits). */
  rows: number
  /** Rows it held when last analyzed. */
  baseline: number
  /** Rows inserted or removed since. */
  changed: number
  /** A parent is analyzed with ONLY: its partitions have their own entries. */
  readonly parent: boolean
  lastMs: number
}

export class AutoAnalyze {
  readonly #rels = new Map<string, Relation>()

  constructor(private readonly minGapMs = 5_000) {}

  /** A relation known at open: `analyzed` false means it has no statistics yet. */
  track(name: string, rows: number, analyzed: boolean, parent = false): void {
    this.#rels.set(name, { rows, baseline: analyzed ? rows : 0, changed: analyzed ? 0 : Math.max(rows, THRESHOLD), parent, lastMs: -Infinity })
  }

  /** Rows were committed to (or removed from) `name`. */
  note(name: string, rows: number, parent = false): void {
    let r = this.#rels.get(name)
    if (!r) {
      r = { rows: 0, baseline: 0, changed: 0, parent, lastMs: -Infinity }
      this.#rels.set(name, r)
    }
    r.rows = Math.max(0, r.rows + rows)
    r.changed += Math.abs(rows)
  }

  forget(name: string): void {
    this.#rels.delete(name)
  }

  /** The statement that analyzes the most changed relation that is due, or null. */
  next(nowMs: number): { name: string; sql: string } | null {
    let best: [string, Relation] | undefined
    for (const entry of this.#rels) {
      const r = entry[1]
      if (r.changed < THRESHOLD + SCALE * r.baseline || nowMs - r.lastMs < this.minGapMs) continue
      if (!best || r.changed > best[1].changed) best = entry
    }
    if (!best) return null
    const [name, r] = best
    return { name, sql: `BEGIN; SET LOCAL default_statistics_target = ${STATISTICS_TARGET}; ANALYZE ${r.parent ? 'ONLY ' : ''}${name}; COMMIT` }
  }

  /** How long until a relation that has changed enough is past its gap; null if none has. */
  waitMs(nowMs: number): number | null {
    let wait: number | null = null
    for (const r of this.#rels.values()) {
      if (r.changed < THRESHOLD + SCALE * r.baseline) continue
      const w = Math.max(0, r.lastMs + this.minGapMs - nowMs)
      if (wait === null || w < wait) wait = w
    }
    return wait
  }

  /** `name` was analyzed at `nowMs`. */
  done(name: string, nowMs: number): void {
    const r = this.#rels.get(name)
    if (!r) return
    r.baseline = r.rows
    r.changed = 0
    r.lastMs = nowMs
  }
}
