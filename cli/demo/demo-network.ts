/**
 * The demo network, in one process on this machine: K KubeArmor-protocol event sources (two
 * nodes each, in clusters demo-east and demo-west), K edge agents each pulling from its source
 * over gRPC and storing into its own PGlite under the data dir, and one gateway on 127.0.0.1
 * that finds the edges from a static list and logs in to them as `fedgres_gateway`.
 *
 * Stopping runs in the opposite order: the gateway stops taking queries, the edges commit what
 * they received (drain), then the sources stop.
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Logger } from '../../common/log.js'
import { errorMeta, rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { edgeConfigSchema } from '../../edge-agent/config.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { gatewayConfigSchema } from '../../gateway/config.js'
import { startGateway, type RunningGateway } from '../../gateway/gateway.js'
import { loadOrCreateSecrets, loadOrCreateTls, type DemoSecrets, type DemoTls } from './demo-secrets.js'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

export interface DemoOptions {
  readonly edges: number
  /** Gateway port on 127.0.0.1. */
  readonly port: number
  readonly dataDir: string
  /** Events per second across the network, shared by the sources. */
  readonly rate: number
  /** Level of the sources', edges' and gateway's logs. */
  readonly logLevel: LogLevel
}

export interface DemoEdge {
  readonly edgeId: string
  readonly cluster: string
  readonly hosts: readonly string[]
}

export interface DemoNetwork {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  readonly secrets: DemoSecrets
  readonly tls: DemoTls
  readonly edges: readonly DemoEdge[]
  /**
   * Resolves with true once every edge is passing with a synopsis and (unless the rate is 0) has
   * committed its first events and published their count, so the first query finds rows and
   * fedgres.edges counts them; false after `timeoutMs`.
   */
  edgesReady(timeoutMs: number): Promise<boolean>
  /** Stops the gateway (its clients get FATAL 57P01), then drains the edges and stops the sources. */
  stop(): Promise<void>
}

export const DEMO_HOST = '127.0.0.1'
export const DEMO_USER = 'analyst'
export const EDGE_USER = 'fedgres_gateway'
const CLUSTERS = ['demo-east', 'demo-west'] as const

export class PortInUseError extends Error {
  constructor(host: string, port: number) {
    super(`port ${port} on ${host} is already in use (another PostgreSQL server?); pick a free one with --port, e.g. npm start -- --port ${port < 65535 ? port + 1 : 15432}`)
    this.name = 'PortInUseError'
  }
}

/** Fails early, before the edges start, when the gateway's port is taken. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(host, port) : e))
    probe.listen(port, host, () => probe.close(() => resolve()))
  })
}

/** Starts every item; if one fails, stops those that started and rethrows. */
async function startAll<T>(starts: (() => Promise<T>)[], stop: (t: T) => Promise<void>): Promise<T[]> {
  const results = await Promise.allSettled(starts.map((s) => s()))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (!failed) return results.map((r) => (r as PromiseFulfilledResult<T>).value)
  await Promise.all(results.flatMap((r) => (r.status === 'fulfilled' ? [stop(r.value).catch(() => {})] : [])))
  throw failed.reason
}

export async function startDemoNetwork(opts: DemoOptions, log: Logger): Promise<DemoNetwork> {
  if (opts.port !== 0) await assertPortFree(DEMO_HOST, opts.port)
  const secrets = loadOrCreateSecrets(opts.dataDir)
  const tls = loadOrCreateTls(opts.dataDir)
  const plan: DemoEdge[] = Array.from({ length: opts.edges }, (_, i) => {
    const cluster = CLUSTERS[i % CLUSTERS.length]!
    return { edgeId: `edge-${i + 1}`, cluster, hosts: [`${cluster}-node-${2 * i + 1}`, `${cluster}-node-${2 * i + 2}`] }
  })

  const sources = await startAll(
    plan.map((e, i) => async () => {
      const src = new KubeArmorEventSource({ host: DEMO_HOST, port: 0, hosts: e.hosts, cluster: e.cluster, seed: i + 1, rate: opts.rate / opts.edges })
      await src.start()
      return src
    }),
    (s) => s.stop(),
  )
  const edgeScram = makeScramSecret(secrets.edgePassword)
  let edges: RunningEdge[]
  try {
    edges = await startAll(
      plan.map((e, i) => () => {
        const cfg = edgeConfigSchema.parse({
          edge_id: e.edgeId,
          data_dir: join(opts.dataDir, e.edgeId),
          cluster: e.cluster,
          node_tags: [`site:${e.cluster}`],
          sources: [{ address: sources[i]!.address, health_interval: '10s' }],
          serve: { host: DEMO_HOST, port: 0, users: [{ name: EDGE_USER, scram: edgeScram }] },
          // No Consul here, so publishing the row counts costs nothing: fedgres.edges keeps up
          // with what the edge stores instead of lagging 30 s behind it.
          synopsis: { refresh: '2s' },
          log_level: opts.logLevel,
        })
        return startEdge(cfg, rootLogger('edge-agent', opts.logLevel).child({ edgeId: e.edgeId }))
      }),
      (edge) => edge.stop(),
    )
  } catch (e) {
    await Promise.all(sources.map((s) => s.stop()))
    throw e
  }
  const stopEdgesAndSources = async () => {
    const results = await Promise.allSettled(edges.map((e) => e.stop()))
    for (const [i, r] of results.entries()) if (r.status === 'rejected') log.error('edge did not stop cleanly', { edgeId: plan[i]!.edgeId, ...errorMeta(r.reason) })
    await Promise.all(sources.map((s) => s.stop()))
  }

  const cfg = gatewayConfigSchema.parse({
    listen: { host: DEMO_HOST, port: opts.port },
    users: [{ name: DEMO_USER, scram: makeScramSecret(secrets.analystPassword) }],
    tls: { cert: tls.cert, key: tls.key },
    edge_credentials: { user: EDGE_USER, password: secrets.edgePassword },
    discovery: {
      kind: 'static',
      edges: plan.map((e, i) => ({ edge_id: e.edgeId, address: `${DEMO_HOST}:${edges[i]!.servePort}`, cluster: e.cluster, tags: [`site:${e.cluster}`] })),
    },
    log_level: opts.logLevel,
  })
  let gateway: RunningGateway
  try {
    gateway = await startGateway(cfg, rootLogger('gateway', opts.logLevel))
  } catch (e) {
    await stopEdgesAndSources()
    throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(DEMO_HOST, opts.port) : e
  }

  return {
    host: DEMO_HOST,
    port: gateway.port,
    database: cfg.database,
    user: DEMO_USER,
    secrets,
    tls,
    edges: plan,
    async edgesReady(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const view = gateway.discovery?.current()
        const passing = view !== undefined && view.edges.length === plan.length && view.edges.every((e) => e.status === 'passing' && e.synopsis !== null)
        // Stored, and counted in the synopsis the gateway holds, so fedgres.edges shows the rows too.
        const counted = view !== undefined && view.edges.every((e) => e.synopsis !== null && e.synopsis.tables.alerts.rows + e.synopsis.tables.logs.rows > 0)
        if (passing && (opts.rate === 0 || (edges.every((e) => e.agent.counters.stored > 0) && counted))) return true
        if (Date.now() > deadline) return false
        await new Promise((r) => setTimeout(r, 200))
      }
    },
    async stop() {
      await gateway.close()
      await stopEdgesAndSources()
    },
  }
}
