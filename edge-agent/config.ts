/** The edge agent's configuration: file keys in snake_case, FEDGRES_EDGE_* overrides. */
import { hostname } from 'node:os'
import { EDGE_ID } from '../schema/membership.js'
import { PUBLISH_GRACE_MS } from '../schema/synopsis.js'
import { join } from 'node:path'
import { z } from 'zod'
import { loadConfig, zBytes, zDuration, type LoadOptions } from '../common/config.js'
import { EventRules, tagRuleSchema, type EventMatcher } from './rules/event-rules.js'
import { alertsConfigSchema, type AlertRuleConfig } from './alerts/index.js'
import { matchSchema } from './rules/match-spec.js'

/** The event matchers of alert rules (event and rate rules), for the rules engine. */
export function alertMatchers(rules: readonly AlertRuleConfig[]): EventMatcher[] {
  return rules.flatMap((r) => {
    const spec = r.when.event ?? r.when.rate?.event
    if (spec === undefined) return []
    const parsed = matchSchema.safeParse(spec)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new Error(`rule ${r.name}: when.${r.when.event ? 'event' : 'rate.event'}${issue.path.length ? '.' + issue.path.join('.') : ''}: ${issue.message}`)
    }
    return [{ name: r.name, match: parsed.data }]
  })
}

const tlsFiles = z.strictObject({
  ca: z.string().describe("KubeArmor's CA certificate (ca.crt)"),
  cert: z.string().describe('client certificate (client.crt)'),
  key: z.string().describe('client key (client.key)'),
  server_name: z.string().optional(),
})

const source = z.strictObject({
  address: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. localhost:32767'),
  tls: tlsFiles.optional(),
  health_interval: zDuration.default(30_000),
  /** The ceiling of the jittered reconnect backoff (it starts at 250 ms and doubles). */
  reconnect_max: zDuration.default(30_000),
})

const user = z.strictObject({
  name: z.string().min(1),
  /** PostgreSQL's SCRAM secret format: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> */
  scram: z.string().regex(/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/, 'must be a SCRAM-SHA-256 secret (fedgres hash-password)'),
})

const consul = z.strictObject({
  address: z.string().default('http://127.0.0.1:8500'),
  token: z.string().optional(),
  service_name: z.string().default('fedgres-edge'),
  ttl: zDuration.default(15_000),
  deregister_after: zDuration.default(600_000),
  ca: z.string().optional(),
})

export const edgeConfigSchema = z.strictObject({
  edge_id: z.string().regex(EDGE_ID, 'letters, digits, _ and - only (it becomes a Consul service ID)').default(() => hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64)),
  data_dir: z.string().default('./.data/edge'),
  cluster: z.string().default('default'),
  shard: z.string().optional(),
  node_tags: z.array(z.string().regex(/^[A-Za-z0-9_.:-]+$/)).default([]),
  sources: z.array(source).min(1, 'at least one KubeArmor source is needed').default([{ address: 'localhost:32767', health_interval: 30_000, reconnect_max: 30_000 }]),
  serve: z
    .strictObject({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(5433),
      advertise: z.string().optional(),
      users: z.array(user).default([]),
      tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
    })
    .prefault({}),
  store: z
    .strictObject({
      // 16 MB: the store's reads go through the OS page cache in any case; measured on PGlite, a
      // 200,000-row insert and a grouped query ran at the same speed as with 32 MB, and the peak
      // RSS was 15 MB lower.
      shared_buffers: z.string().regex(/^\d+(kB|MB|GB)$/).default('16MB'),
      batch_bytes: zBytes.default(4 << 20),
      // Group commit: events wait up to this long for a full batch (see store/group-commit.ts).
      batch_wait: zDuration.default(100),
      segment_bytes: zBytes.default(64 << 20),
      // PGlite has no checkpointer process: the store checkpoints itself (store/checkpointer.ts).
      // 128 MB of WAL is about 180,000 events, replayed in a few seconds after a kill -9.
      checkpoint_wal: zBytes.default(128 << 20),
      checkpoint_interval: zDuration.default(300_000),
      /**
       * Free space the store's disk must keep: below it, commits and checkpoints wait (events stay
       * in the spool) and the store is not opened. PGlite does not survive running out of space
       * while it makes a 16 MiB WAL segment or checkpoints (it spins, or answers wrongly).
       */
      min_free: zBytes.default(64 << 20),
    })
    .prefault({}),
  synopsis: z
    .strictObject({
      /** Wait this long after publishing a widened synopsis before committing the rows that widened it. */
      publish_grace: zDuration.default(PUBLISH_GRACE_MS),
      value_cap: z.number().int().positive().default(256),
      time_lease: zDuration.default(600_000),
      /**
       * How often a synopsis whose only change is its row counts (fedgres.edges) is published
       * again. Each publish is a Raft write in Consul and wakes every gateway's KV watch, which
       * reads the whole prefix: at thousands of edges, a short period costs more than it shows.
       * Default: 5 minutes with Consul, 30 s without (the edge's own endpoint serves it).
       */
      refresh: zDuration.optional(),
    })
    .prefault({}),
  /** Tagging rules: tags added to matching events (see rules/match-spec.ts). */
  tagging: z.strictObject({ rules: z.array(tagRuleSchema).default([]) }).prefault({}),
  retention: z
    .strictObject({
      /** Drop days that ended longer ago than this (e.g. 7d). */
      max_age: zDuration.optional(),
      /** Keep the stored events under this size (e.g. 2GiB); oldest days go first. */
      max_bytes: zBytes.optional(),
      check_every: zDuration.default(300_000),
      /** Where each day is archived (gzip CSV and a manifest) before it is dropped. */
      archive: z.strictObject({ dir: z.string().min(1) }).optional(),
    })
    .refine((r) => r.max_age !== undefined || r.max_bytes !== undefined, 'retention: set max_age, max_bytes or both')
    .optional(),
  /** Alert rules and their sinks (see alerts/alert-config.ts). */
  alerts: alertsConfigSchema.optional(),
  consul: consul.optional(),
  metrics: z.strictObject({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535) }).optional(),
  log_level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
}).superRefine((cfg, ctx) => {
  // Rules compile at start: a bad column, regex or CIDR block is named here, not on the first event.
  try {
    new EventRules(cfg.node_tags, cfg.tagging.rules)
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: ['tagging', 'rules'], message: (e as Error).message })
  }
  try {
    new EventRules([], [], alertMatchers(cfg.alerts?.rules ?? []))
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: ['alerts', 'rules'], message: (e as Error).message })
  }
})

export type EdgeConfig = z.infer<typeof edgeConfigSchema>

/** The `edge_id` column of the rows this edge stores: its shard when it has replicas, else its id. */
export const storedEdgeId = (cfg: Pick<EdgeConfig, 'edge_id' | 'shard'>) => cfg.shard ?? cfg.edge_id

/** How the store is opened: the same for the agent and for `fedgres import`. */
export function storeOpenOptions(cfg: Pick<EdgeConfig, 'data_dir' | 'store'>) {
  return {
    pgDataDir: join(cfg.data_dir, 'pgdata'),
    spoolDir: join(cfg.data_dir, 'spool'),
    sharedBuffers: cfg.store.shared_buffers,
    batchBytes: cfg.store.batch_bytes,
    batchWaitMs: cfg.store.batch_wait,
    checkpoint: { walBytes: cfg.store.checkpoint_wal, intervalMs: cfg.store.checkpoint_interval },
    minFreeBytes: cfg.store.min_free,
  }
}

export function loadEdgeConfig(opts: Omit<LoadOptions, 'envPrefix'> = {}): EdgeConfig {
  const cfg = loadConfig(edgeConfigSchema, { ...opts, envPrefix: 'FEDGRES_EDGE' })
  const env = opts.env ?? process.env
  // Consul's own variable names, as operators already set them on every node.
  if (env.CONSUL_HTTP_ADDR && !cfg.consul) {
    const addr = env.CONSUL_HTTP_ADDR.includes('://') ? env.CONSUL_HTTP_ADDR : `http://${env.CONSUL_HTTP_ADDR}`
    cfg.consul = consul.parse({ address: addr, token: env.CONSUL_HTTP_TOKEN })
  }
  return cfg
}
