/** The edge agent's Prometheus metrics (prom-client), served on /metrics. */
import client from 'prom-client'

export function createEdgeMetrics(edgeId: string) {
  const registry = new client.Registry()
  registry.setDefaultLabels({ edge_id: edgeId })
  client.collectDefaultMetrics({ register: registry })
  const c = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new client.Counter({ name, help, labelNames, registers: [registry] })
  const g = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new client.Gauge({ name, help, labelNames, registers: [registry] })
  return {
    registry,
    received: c('fedgres_edge_events_received_total', 'Events received from KubeArmor and written to the spool', ['source', 'table']),
    stored: c('fedgres_edge_events_stored_total', 'Events committed to the store', ['table']),
    dropped: c('fedgres_edge_events_dropped_total', 'Events the store rejected (kept in fedgres_internal.rejected_rows)', ['reason']),
    throttled: c('fedgres_edge_throttle_notices_total', 'KubeArmor AlertThreshold notices: alerts dropped at the source', ['source']),
    reconnects: c('fedgres_edge_source_reconnects_total', 'Reconnects to KubeArmor sources', ['source']),
    connected: g('fedgres_edge_source_connected', '1 when the source is connected', ['source']),
    spoolDepth: g('fedgres_edge_spool_depth', 'Events received but not yet committed', []),
    storeBytes: g('fedgres_edge_store_bytes', 'Bytes on disk in the data dir (store and spool)', []),
    batchSeconds: new client.Histogram({
      name: 'fedgres_edge_commit_batch_seconds',
      help: 'Time to commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    synopsisPublishes: c('fedgres_edge_synopsis_publishes_total', 'Synopsis publications', ['outcome']),
  }
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>
