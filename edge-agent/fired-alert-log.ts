/**
 * Writes the alerts this edge's rules fire into `fedgres_internal.fired_alerts`, which the edge
 * serves as `fedgres.fired_alerts` and the gateway unions across edges. Batched (one INSERT per
 * half second at most) and capped: past MAX_ROWS the oldest rows are deleted.
 */
import type { Logger } from '../common/log.js'
import { errorMeta } from '../common/log.js'
import type { FiredAlert } from './alerts/index.js'
import { alertJsonReplacer } from './alerts/alert.js'
import type { EdgeStore } from './store/edge-store.js'

const FLUSH_MS = 500
const MAX_ROWS = 100_000

export class FiredAlertLog {
  #pending: { alert: FiredAlert; sinks: readonly string[] }[] = []
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #written = 0

  constructor(
    private readonly store: EdgeStore,
    private readonly log: Logger,
  ) {}

  record(alert: FiredAlert, sinks: readonly string[]): void {
    this.#pending.push({ alert, sinks })
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS)
  }

  /** Writes what is pending; resolves when it is stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batch = this.#pending
    this.#pending = []
    if (batch.length === 0) return this.#flushing
    this.#flushing = this.#flushing.then(() => this.#write(batch))
    return this.#flushing
  }

  async #write(batch: { alert: FiredAlert; sinks: readonly string[] }[]): Promise<void> {
    const cols = ['edge_id', 'alert_id', 'rule', 'kind', 'severity', 'fired_at', 'summary', 'details', 'sinks']
    const params: unknown[] = []
    const rows = batch.map(({ alert: a, sinks }) => {
      const base = params.length
      params.push(a.edgeId, a.id, a.rule, a.kind, a.severity ?? null, a.firedAt, a.summary, JSON.stringify(a.details, alertJsonReplacer), [...sinks])
      return `(${cols.map((_, i) => `$${base + i + 1}`).join(', ')})`
    })
    try {
      await this.store.query(`INSERT INTO fedgres_internal.fired_alerts (${cols.join(', ')}) VALUES ${rows.join(', ')}`, params)
      this.#written += batch.length
      if (this.#written >= 1000) {
        this.#written = 0
        await this.store.query(
          `DELETE FROM fedgres_internal.fired_alerts WHERE fired_at < (SELECT fired_at FROM fedgres_internal.fired_alerts ORDER BY fired_at DESC OFFSET ${MAX_ROWS} LIMIT 1)`,
        )
      }
    } catch (e) {
      this.log.error('could not record fired alerts in fedgres.fired_alerts (they are still delivered)', { alerts: batch.length, ...errorMeta(e) })
    }
  }
}
