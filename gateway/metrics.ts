/** The gateway's Prometheus metrics (prom-client), served on /metrics when `metrics` is configured. */
import { SYNOPSIS_MAX_AGE_MS } from '../schema/synopsis.js'
import client from 'prom-client'
import type { Discovery } from './discovery/edge-view.js'
import type { EdgeConnectionStats } from './exec/edge-pool.js'

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>

/** One federated statement's figures, reported once its outcome is known. */
export interface StatementFigures {
  readonly tier: string
  readonly seconds: number
  readonly outcome: 'ok' | 'edge_error' | 'error'
  readonly asked: number
  readonly pruned: number
  /** Edges that failed it or were failed over, or that the view knew were down when it was planned. */
  readonly edgeErrors: readonly string[]
}

/** Statements whose figures may wait for a scrape; past this they are counted at once. */
const PENDING_STATEMENTS = 1024

export function createGatewayMetrics(
  discovery: () => Discovery | undefined,
  connections: () => number,
  /** Restarts of the gateway's local engine by cause (Shadow.restartsBy). */
  engineRestarts: () => Readonly<Record<string, number>> = () => ({}),
  /** Connections to edges (EdgePool.stats), all edges together. */
  edgeConnections: () => EdgeConnectionStats | undefined = () => undefined,
) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  // A statement's figures are queued on its path and counted into prom-client when /metrics is
  // read: prom-client looks up each label set by hashing it, ~10 µs a statement, which was
  // a twentieth of a fan-out's time at the gateway.
  let pending: StatementFigures[] = []
  const count = () => {
    const figures = pending
    pending = []
    for (const f of figures) {
      queries.inc({ tier: f.tier, outcome: f.outcome })
      latency.observe({ tier: f.tier }, f.seconds)
      if (f.asked) edgesAsked.inc(f.asked)
      if (f.pruned) edgesPruned.inc(f.pruned)
      for (const id of f.edgeErrors) edgeErrors.inc({ edge_id: id })
    }
  }
  const queries = new client.Counter({ name: 'fedgres_gateway_queries_total', help: 'Federated statements by planner tier and outcome', labelNames: ['tier', 'outcome'] as const, registers: [registry], collect: count })
  const latency = new client.Histogram({
    name: 'fedgres_gateway_query_seconds',
    help: 'Time from planning a federated statement until its last row was produced',
    labelNames: ['tier'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
    collect: count,
  })
  const edgesAsked = new client.Counter({ name: 'fedgres_gateway_edges_asked_total', help: 'Shards asked, summed over statements', registers: [registry], collect: count })
  const edgesPruned = new client.Counter({ name: 'fedgres_gateway_edges_pruned_total', help: 'Edges pruned by synopsis, summed over statements', registers: [registry], collect: count })
  const edgeErrors = new client.Counter({
    name: 'fedgres_gateway_edge_errors_total',
    help: 'Statements failed by an edge (unreachable, timed out, lost mid-query, or known to be down when planned)',
    labelNames: ['edge_id'] as const,
    registers: [registry],
    collect: count,
  })
  return {
    registry,
    /** Counts a finished federated statement (cheaply: see `count`). */
    statement(f: StatementFigures): void {
      pending.push(f)
      if (pending.length >= PENDING_STATEMENTS) count()
    },
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
    synopsisAge: new client.Gauge({
      name: 'fedgres_gateway_synopsis_age_seconds',
      help: `Time since discovery last confirmed a synopsis it holds, the oldest over the edges that have one: past ${SYNOPSIS_MAX_AGE_MS / 1000} s the planner no longer prunes that edge by it (Consul, or the edge itself for static discovery, did not answer) and asks it`,
      registers: [registry],
      collect() {
        const now = Date.now()
        let oldest = 0
        for (const e of discovery()?.current().edges ?? []) if (e.synopsis) oldest = Math.max(oldest, now - e.synopsisCurrentAt)
        this.set(oldest / 1000)
      },
    }),
    engineRestarts: new client.Counter({
      name: 'fedgres_gateway_engine_restarts_total',
      help: "Restarts of the gateway's local engine (catalog and gathered rows) by cause: a statement past catalog.statement_timeout or catalog.max_result_mb, a cancelled one past its grace, or the engine's own end",
      labelNames: ['cause'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const [cause, n] of Object.entries(engineRestarts())) this.inc({ cause }, n)
      },
    }),
    edgeConnections: new client.Gauge({
      name: 'fedgres_gateway_edge_connections',
      help: 'Connections to edges, all edges together: open (busy or idle, at most edge_connections per edge), idle, and statements waiting for one (every connection to their edge busy)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const c = edgeConnections()
        this.set({ state: 'open' }, c?.open ?? 0)
        this.set({ state: 'idle' }, c?.idle ?? 0)
        this.set({ state: 'waiting' }, c?.waiting ?? 0)
      },
    }),
    edgeConnectionWaits: new client.Counter({
      name: 'fedgres_gateway_edge_connection_waits_total',
      help: 'Times a statement waited for a connection to an edge because every one the gateway may hold to it was busy',
      registers: [registry],
      collect() {
        this.reset()
        this.inc(edgeConnections()?.waits ?? 0)
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
