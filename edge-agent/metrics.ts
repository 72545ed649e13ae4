/** The edge agent's Prometheus metrics (prom-client), served on /metrics. */
import client from 'prom-client'
import type { KubeArmorClient } from './ingest/kubearmor-client.js'

/**
 * Per-event counts are kept as plain numbers on each source and read at scrape time: a labelled
 * counter increment per event costs more than the rest of the receive path.
 */
export function createEdgeMetrics(
  edgeId: string,
  sources: () => readonly KubeArmorClient[],
  spooled: (s: KubeArmorClient) => { alerts: number; logs: number },
) {
  const registry = new client.Registry()
  registry.setDefaultLabels({ edge_id: edgeId })
  client.collectDefaultMetrics({ register: registry })
  const c = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new client.Counter({ name, help, labelNames, registers: [registry] })
  const fromSources = (name: string, help: string, value: (s: KubeArmorClient) => number) =>
    new client.Counter({
      name,
      help,
      labelNames: ['source'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const s of sources()) this.inc({ source: s.address }, value(s))
      },
    })
  const g = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new client.Gauge({ name, help, labelNames, registers: [registry] })
  return {
    registry,
    received: new client.Counter({
      name: 'fedgres_edge_events_received_total',
      help: 'Events received from KubeArmor and written to the spool',
      labelNames: ['source', 'table'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const s of sources()) {
          const n = spooled(s)
          this.inc({ source: s.address, table: 'alerts' }, n.alerts)
          this.inc({ source: s.address, table: 'logs' }, n.logs)
        }
      },
    }),
    stored: c('fedgres_edge_events_stored_total', 'Events committed to the store', ['table']),
    dropped: c('fedgres_edge_events_dropped_total', 'Events not stored, by reason: rejected (by the store; kept in fedgres_internal.rejected_rows), malformed, spool_write_failed (the spool could not be written and its memory was full), spool_deleted (in a spool segment deleted before it was stored)', ['reason']),
    storeFailing: g('fedgres_edge_store_failing', '1 while the store cannot commit (its last commit failed, or its disk is below store.min_free): events wait in the spool', []),
    spoolWriteFailing: g('fedgres_edge_spool_write_failing', '1 while the spool cannot be written (a full disk): events are held in memory, then dropped', []),
    throttled: fromSources('fedgres_edge_throttle_notices_total', 'KubeArmor AlertThreshold notices: alerts dropped at the source', (s) => s.stats.throttleNotices),
    reconnects: fromSources('fedgres_edge_source_reconnects_total', 'Reconnects to KubeArmor sources', (s) => s.stats.reconnects),
    connected: g('fedgres_edge_source_connected', '1 when the source is connected', ['source']),
    spoolDepth: g('fedgres_edge_spool_depth', 'Events received but not yet committed', []),
    lastCommit: g('fedgres_edge_last_commit_timestamp_seconds', 'When the store last committed events (Unix time; 0 before the first commit)', []),
    storeBytes: g('fedgres_edge_store_bytes', 'Bytes on disk in the data dir (store and spool)', []),
    batchSeconds: new client.Histogram({
      name: 'fedgres_edge_commit_batch_seconds',
      help: 'Time to commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    analyzeSeconds: new client.Histogram({
      name: 'fedgres_edge_analyze_seconds',
      help: 'Time to gather planner statistics (ANALYZE) for one table or day partition',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    checkpoints: c('fedgres_edge_checkpoints_total', 'Checkpoints of the store, by cause: wal (checkpoint_wal written) or time (checkpoint_interval passed)', ['cause']),
    checkpointSeconds: new client.Histogram({
      name: 'fedgres_edge_checkpoint_seconds',
      help: 'Time one checkpoint of the store took',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    partitionsDropped: c('fedgres_edge_retention_partitions_dropped_total', 'Day partitions dropped by retention', ['reason']),
    archiveFailures: c('fedgres_edge_archive_failures_total', 'Archives that failed (their partitions were kept)', []),
    synopsisPublishes: c('fedgres_edge_synopsis_publishes_total', 'Synopsis publications', ['outcome']),
  }
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>
