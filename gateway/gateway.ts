/** Wiring of the gateway: configuration → shadow catalog → executor → wire server. */
import { LiteralMemo } from './session/literal-memo.js'
import { readFileSync } from 'node:fs'
import type { Logger } from '../common/log.js'
import { Shadow } from './catalog/shadow.js'
import type { GatewayConfig } from './config.js'
import { type DataExecutor } from './exec/data-executor.js'
import { EdgePool } from './exec/edge-pool.js'
import { FederatedExecutor } from './exec/federated-executor.js'
import { createDiscovery, type Discovery } from './discovery/index.js'
import { Session } from './session/session.js'
import { loadParser } from './session/sql-parse.js'
import { WireServer } from '../common/pgwire/server/server.js'
import { startHttpEndpoint } from '../common/http-endpoint.js'
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js'
import { Activities } from './session/activity.js'

export interface RunningGateway {
  readonly port: number
  readonly shadow: Shadow
  readonly wire: WireServer
  readonly discovery: Discovery | undefined
  readonly metrics: GatewayMetrics
  /** Port of /metrics and the health probes, when configured. */
  readonly metricsPort: number | undefined
  close(): Promise<void>
}

export interface GatewayParts {
  /** Answers statements that read Fedgres's tables (default: the federation over discovered edges). */
  readonly executor?: DataExecutor
  /** The edge view to federate over (default: from the config's `discovery`). */
  readonly discovery?: Discovery
}

export async function startGateway(cfg: GatewayConfig, log: Logger, parts: GatewayParts = {}): Promise<RunningGateway> {
  await loadParser()
  const shadow = await Shadow.start({
    users: cfg.users.map((u) => u.name),
    settings: [
      ['fedgres.edge_timeout', `${cfg.defaults.edge_timeout}ms`],
      ['fedgres.max_gather_rows', String(cfg.defaults.max_gather_rows)],
      ['fedgres.partial_results', cfg.defaults.partial_results ? 'on' : 'off'],
    ],
    cacheDir: cfg.catalog.cache_dir,
    statementTimeoutMs: cfg.catalog.statement_timeout,
    maxResultBytes: cfg.catalog.max_result_mb * 1024 * 1024,
    log,
  })
  let discovery: Discovery | undefined
  let wireRef: WireServer | undefined
  const metrics: GatewayMetrics = createGatewayMetrics(() => discovery, () => wireRef?.connections ?? 0, () => shadow.restartsBy, () => pool?.stats())
  let pool: EdgePool | undefined
  let executor = parts.executor
  if (!executor) {
    discovery = parts.discovery ?? createDiscovery(cfg, log)
    const ca = cfg.edge_credentials?.ca ? readFileSync(cfg.edge_credentials.ca, 'utf8') : undefined
    pool = new EdgePool({ user: cfg.edge_credentials?.user ?? 'fedgres_gateway', password: cfg.edge_credentials?.password ?? '', database: 'fedgres', ca }, 5000, cfg.edge_connections)
    executor = new FederatedExecutor({ discovery, pool, defaults: cfg.defaults, metrics, log: log.child({ component: 'federation' }) })
    const view = await discovery.ready(5000)
    log.info('edge view ready', { edges: view.edges.length, stale: view.stale })
  }
  const literals = new LiteralMemo()
  const activities = new Activities()
  const wire = new WireServer({
    host: cfg.listen.host,
    port: cfg.listen.port,
    database: cfg.database,
    users: new Map(cfg.users.map((u) => [u.name, u.scram])),
    tls: cfg.tls,
    maxConnections: cfg.max_connections,
    log,
    createSession: async (ctx) => new Session(ctx, { shadow, executor, log, literals, activities }),
  })
  wireRef = wire
  let port: number
  let http: Awaited<ReturnType<typeof startHttpEndpoint>> | undefined
  try {
    port = await wire.listen()
    if (cfg.metrics) http = await startHttpEndpoint({ host: cfg.metrics.host, port: cfg.metrics.port, registry: metrics.registry, ready: () => true })
  } catch (e) {
    // A busy port must not leave the catalog worker, discovery and edge connections running.
    await wire.close().catch(() => {})
    pool?.close()
    if (!parts.discovery) await discovery?.close().catch(() => {})
    await shadow.close().catch(() => {})
    throw e
  }
  log.info('gateway listening', { host: cfg.listen.host, port, tls: Boolean(cfg.tls) })
  return {
    port,
    shadow,
    wire,
    discovery,
    metrics,
    metricsPort: http?.port,
    async close() {
      await http?.close()
      await wire.close()
      pool?.close()
      if (!parts.discovery) await discovery?.close()
      await shadow.close()
    },
  }
}
