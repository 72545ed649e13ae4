/** The gateway's Prometheus metrics (prom-client), served on /metrics when `metrics` is configured. */
import client from 'prom-client'
import type { Discovery } from './discovery/edge-view.js'

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>

export function createGatewayMetrics(discovery: () => Discovery | undefined, connections: () => number) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  return {
    registry,
    queries: new client.Counter({ name: 'fedgres_gateway_queries_total', help: 'Federated statements by planner tier and outcome', labelNames: ['tier', 'outcome'] as const, registers: [registry] }),
    latency: new client.Histogram({
      name: 'fedgres_gateway_query_seconds',
      help: 'Time to plan and start a federated statement, until its last row was produced (buffered tiers) or streaming began',
      labelNames: ['tier'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    edgesAsked: new client.Counter({ name: 'fedgres_gateway_edges_asked_total', help: 'Shards asked, summed over statements', registers: [registry] }),
    edgesPruned: new client.Counter({ name: 'fedgres_gateway_edges_pruned_total', help: 'Edges pruned by synopsis, summed over statements', registers: [registry] }),
    edgeErrors: new client.Counter({ name: 'fedgres_gateway_edge_errors_total', help: 'Statements failed by an edge (unreachable, timed out, lost mid-query, or known to be down when planned)', labelNames: ['edge_id'] as const, registers: [registry] }),
    edges: new client.Gauge({
      name: 'fedgres_gateway_edges',
      help: 'Edges in the current view by status',
      labelNames: ['status'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const e of discovery()?.current().edges ?? []) this.inc({ status: e.status })
      },
    }),
    viewStale: new client.Gauge({
      name: 'fedgres_gateway_view_stale',
      help: '1 while discovery serves the last good view (its source is unreachable)',
      registers: [registry],
      collect() {
        this.set(discovery()?.current().stale ? 1 : 0)
      },
    }),
    clients: new client.Gauge({
      name: 'fedgres_gateway_client_connections',
      help: 'Open client connections',
      registers: [registry],
      collect() {
        this.set(connections())
      },
    }),
  }
}
