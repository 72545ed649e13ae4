/** Prometheus metrics of alerting (prom-client), in the agent's registry or one of their own. */
import client from 'prom-client'

export function createAlertMetrics(registry: client.Registry, pendingBySink: () => ReadonlyMap<string, number>, suppressedByRule: () => readonly (readonly [string, number])[]) {
  const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new client.Counter({ name, help, labelNames, registers: [registry] })
  return {
    fired: counter('fedgres_edge_alerts_fired_total', 'Alerts fired', ['rule']),
    suppressed: new client.Counter({
      name: 'fedgres_edge_alerts_suppressed_total',
      help: "Alerts not fired because of the rule's rate_limit",
      labelNames: ['rule'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const [rule, n] of suppressedByRule()) this.inc({ rule }, n)
      },
    }),
    delivered: counter('fedgres_edge_alerts_delivered_total', 'Alerts a sink took', ['sink']),
    failed: counter('fedgres_edge_alert_delivery_failures_total', 'Failed delivery attempts (each is retried): transient or rejected', ['sink', 'reason']),
    dropped: counter('fedgres_edge_alerts_dropped_total', 'Alerts given up undelivered: queue_full (oldest dropped past max_queued) or sink_removed', ['reason']),
    pending: new client.Gauge({
      name: 'fedgres_edge_alert_deliveries_pending',
      help: 'Alerts waiting for delivery, per sink',
      labelNames: ['sink'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const [sink, n] of pendingBySink()) this.set({ sink }, n)
      },
    }),
  }
}

export type AlertMetrics = ReturnType<typeof createAlertMetrics>
