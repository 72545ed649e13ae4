/** Rows of fedgres.sources: one per KubeArmor source of this edge. */
import type { KubeArmorClient } from './ingest/kubearmor-client.js'

/** Events per second over the last minute, from samples of a running total. */
export class RateWindow {
  readonly #samples: { at: number; total: number }[] = []
  rate(total: number, now = Date.now()): number {
    this.#samples.push({ at: now, total })
    while (this.#samples.length > 1 && now - this.#samples[0]!.at > 60_000) this.#samples.shift()
    const first = this.#samples[0]!
    const secs = (now - first.at) / 1000
    return secs > 0 ? (total - first.total) / secs : 0
  }
}

export function sourceRows(edgeId: string, sources: readonly KubeArmorClient[], rates: Map<KubeArmorClient, RateWindow>): Record<string, unknown>[] {
  return sources.map((s) => {
    const total = s.stats.alerts + s.stats.logs
    return {
      edge_id: edgeId,
      source: s.address,
      state: s.stats.state,
      connected_since: s.stats.connectedSince,
      last_event_time: s.stats.lastEventMs ? new Date(s.stats.lastEventMs) : null,
      events_total: total,
      alerts_total: s.stats.alerts,
      logs_total: s.stats.logs,
      events_per_second: rates.get(s)?.rate(total) ?? 0,
      reconnects: s.stats.reconnects,
      throttle_notices: s.stats.throttleNotices,
      last_error: s.stats.lastError,
    }
  })
}
