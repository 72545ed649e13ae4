/** The gateway's configuration: file keys in snake_case, FEDGRES_GATEWAY_* overrides. */
import { z } from 'zod'
import { loadConfig, zDuration, type LoadOptions } from '../common/config.js'

const scramSecret = z.string().regex(/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/, 'must be a SCRAM-SHA-256 secret (fedgres hash-password)')

const staticEdge = z.strictObject({
  edge_id: z.string().min(1),
  address: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port'),
  shard: z.string().optional(),
  cluster: z.string().optional(),
  tags: z.array(z.string()).default([]),
  tls: z.boolean().default(false),
  /** Database name on the endpoint; a plain PostgreSQL can serve as an edge. */
  database: z.string().optional(),
})

export const gatewayConfigSchema = z.strictObject({
  listen: z
    .strictObject({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(5432) })
    .default({ host: '0.0.0.0', port: 5432 }),
  /** The database name clients connect to; others are refused as PostgreSQL refuses them. */
  database: z.string().default('fedgres'),
  users: z.array(z.strictObject({ name: z.string().min(1), scram: scramSecret })).min(1, 'at least one user is needed to log in'),
  tls: z
    .strictObject({
      cert: z.string(),
      key: z.string(),
      /** Refuse connections that do not ask for TLS (default: TLS is offered, not required). */
      required: z.boolean().default(false),
    })
    .optional(),
  /** How the gateway logs in to edges (the edges list this user with its SCRAM secret). */
  edge_credentials: z
    .strictObject({
      user: z.string().default('fedgres_gateway'),
      password: z.string().min(1),
      /** CA file (PEM) the edges' certificates must chain to; without it, edge TLS is not verified. */
      ca: z.string().optional(),
    })
    .optional(),
  discovery: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('static'), edges: z.array(staticEdge).default([]), synopsis_poll: zDuration.default(1000) }),
      z.strictObject({
        kind: z.literal('consul'),
        address: z.string().default('http://127.0.0.1:8500'),
        token: z.string().optional(),
        service_name: z.string().default('fedgres-edge'),
        wait: zDuration.default(30_000),
        ca: z.string().optional(),
        /** How long an edge that stopped passing keeps its shard unavailable (08006) rather than left out. */
        departed_grace: zDuration.default(600_000),
      }),
    ])
    .default({ kind: 'static', edges: [], synopsis_poll: 1000 }),
  catalog: z
    .strictObject({
      /** Where the prebuilt shadow catalog is cached between starts. */
      cache_dir: z.string().optional(),
      /** A catalog statement running longer than this is cancelled (the shadow restarts). */
      statement_timeout: zDuration.default(30_000),
      /**
       * A statement whose reply grows past this many MiB is stopped with 54000 (the shadow
       * restarts): a join across edges can write rows far faster than a client reads them.
       */
      max_result_mb: z.number().int().positive().default(256),
    })
    .default({ statement_timeout: 30_000, max_result_mb: 256 }),
  defaults: z
    .strictObject({
      edge_timeout: zDuration.default(30_000),
      max_gather_rows: z.number().int().positive().default(1_000_000),
      partial_results: z.boolean().default(false),
    })
    .default({ edge_timeout: 30_000, max_gather_rows: 1_000_000, partial_results: false }),
  metrics: z.strictObject({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535) }).optional(),
  max_connections: z.number().int().positive().default(500),
  /**
   * Connections the gateway holds open to each edge; statements past them wait their turn. Keep
   * gateways × this under the edge's 200.
   */
  edge_connections: z.number().int().positive().default(64),
  log_level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
})

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>

export function loadGatewayConfig(opts: Omit<LoadOptions, 'envPrefix'> = {}): GatewayConfig {
  const cfg = loadConfig(gatewayConfigSchema, { ...opts, envPrefix: 'FEDGRES_GATEWAY' })
  const env = opts.env ?? process.env
  if (env.CONSUL_HTTP_ADDR && cfg.discovery.kind === 'static' && cfg.discovery.edges.length === 0) {
    const address = env.CONSUL_HTTP_ADDR.includes('://') ? env.CONSUL_HTTP_ADDR : `http://${env.CONSUL_HTTP_ADDR}`
    cfg.discovery = { kind: 'consul', address, token: env.CONSUL_HTTP_TOKEN, service_name: 'fedgres-edge', wait: 30_000, departed_grace: 600_000 }
  }
  return cfg
}
