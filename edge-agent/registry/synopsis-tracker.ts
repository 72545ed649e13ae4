/**
 * Tracks the values and time range of everything the edge has spooled, and tells when an event
 * widens what was last published (the write-ahead rule: such rows are committed only after the
 * widened synopsis is out).
 */
import type { EventTable } from '../../schema/index.js'
import type { Synopsis, SynopsisColumn, TableSynopsis, ValueSet } from '../../schema/synopsis.js'

interface TableState {
  rows: number
  minTime: number | null
  maxTime: number | null
  publishedMin: number | null
  publishedMax: number | null
  values: Record<SynopsisColumn, Set<string | null> | 'any'>
}

const emptyTable = (): TableState => ({
  rows: 0,
  minTime: null,
  maxTime: null,
  publishedMin: null,
  publishedMax: null,
  values: { cluster_name: new Set(), host_name: new Set(), namespace_name: new Set(), tags: new Set() },
})

export interface TrackerOptions {
  readonly edgeId: string
  readonly schemaVersion: number
  /** Past this many values a set becomes 'any' (default 256). */
  readonly valueCap: number
  /** How far ahead of the newest event (and behind the oldest) published time bounds reach, µs. */
  readonly timeLeaseMicros: number
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

export class SynopsisTracker {
  readonly #opts: TrackerOptions
  readonly #tables: Record<EventTable, TableState> = { alerts: emptyTable(), logs: emptyTable() }
  #version = 0
  #window: Record<EventTable, number | null> | undefined
  /** True when something observed is not covered by the last snapshot. */
  dirty = false

  constructor(opts: TrackerOptions, restored?: Synopsis) {
    this.#opts = opts
    if (restored) this.#restore(restored)
  }

  #restore(s: Synopsis): void {
    this.#version = s.version
    for (const t of ['alerts', 'logs'] as const) {
      const src = s.tables[t]
      if (!src) continue
      const dst = this.#tables[t]
      dst.rows = src.rows
      dst.minTime = dst.publishedMin = src.minTime
      dst.maxTime = dst.publishedMax = src.maxTime
      for (const c of Object.keys(dst.values) as SynopsisColumn[]) {
        const v = src.values[c]
        dst.values[c] = v === 'any' ? 'any' : new Set(v ?? [])
      }
    }
  }

  #add(t: TableState, col: SynopsisColumn, value: string | null): void {
    const set = t.values[col]
    if (set === 'any' || set.has(value)) return
    if (set.size >= this.#opts.valueCap) t.values[col] = 'any'
    else set.add(value)
    this.dirty = true
  }

  /** Records one spooled event, given as its JSON form. */
  observe(table: EventTable, ev: Record<string, unknown>, tags: readonly string[], micros: number): void {
    this.observeValues(table, str(ev.ClusterName), str(ev.HostName), str(ev.NamespaceName), tags, micros)
  }

  /** Records one spooled event, given as the values the synopsis tracks. */
  observeValues(table: EventTable, cluster: string | null, host: string | null, namespace: string | null, tags: readonly string[], micros: number): void {
    const t = this.#tables[table]
    this.#add(t, 'cluster_name', cluster)
    this.#add(t, 'host_name', host)
    this.#add(t, 'namespace_name', namespace)
    if (tags.length === 0) this.#add(t, 'tags', null)
    else for (const tag of tags) this.#add(t, 'tags', tag)
    const w = this.#window
    if (w && (w[table] === null || micros < w[table]!)) w[table] = micros
    if (t.minTime === null || micros < t.minTime) t.minTime = micros
    if (t.maxTime === null || micros > t.maxTime) t.maxTime = micros
    if (t.publishedMin === null || micros < t.publishedMin || t.publishedMax === null || micros > t.publishedMax) this.dirty = true
  }

  /**
   * Starts noting the oldest event observed from now on, per table (see narrowAfterDrop). Events
   * observed before this call must be committed before the narrowing is applied.
   */
  beginWindow(): void {
    this.#window = { alerts: null, logs: null }
  }

  /**
   * After retention dropped old rows: the store's oldest remaining event is `storeMin` (null if
   * the table is empty). Events observed since beginWindow() may still be in the spool, so the
   * published lower bound becomes the older of the two, less the lease.
   */
  narrowAfterDrop(table: EventTable, storeMin: number | null, rows: number): void {
    const t = this.#tables[table]
    const w = this.#window?.[table] ?? null
    const min = storeMin === null ? w : w === null ? storeMin : Math.min(storeMin, w)
    t.rows = rows
    if (min === null) {
      if (rows === 0 && w === null) t.minTime = t.maxTime = t.publishedMin = t.publishedMax = null
    } else if (t.minTime === null || min > t.minTime) {
      t.minTime = min
      t.publishedMin = min - this.#opts.timeLeaseMicros
    }
    this.dirty = true
  }

  setRows(rows: Record<EventTable, number>): void {
    this.#tables.alerts.rows = rows.alerts
    this.#tables.logs.rows = rows.logs
  }

  /** The synopsis to publish now; it covers everything observed so far. */
  snapshot(now = new Date()): Synopsis {
    const lease = this.#opts.timeLeaseMicros
    const tables = {} as Record<EventTable, TableSynopsis>
    for (const name of ['alerts', 'logs'] as const) {
      const t = this.#tables[name]
      if (t.minTime !== null && (t.publishedMin === null || t.minTime < t.publishedMin)) t.publishedMin = t.minTime - lease
      if (t.maxTime !== null && (t.publishedMax === null || t.maxTime > t.publishedMax)) t.publishedMax = t.maxTime + lease
      const values = {} as Record<SynopsisColumn, ValueSet>
      for (const [c, v] of Object.entries(t.values) as [SynopsisColumn, TableState['values'][SynopsisColumn]][]) {
        values[c] = v === 'any' ? 'any' : [...v].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0))
      }
      tables[name] = { rows: t.rows, minTime: t.publishedMin, maxTime: t.publishedMax, values }
    }
    this.dirty = false
    return { edgeId: this.#opts.edgeId, version: ++this.#version, publishedAt: now.toISOString(), schemaVersion: this.#opts.schemaVersion, tables }
  }
}
