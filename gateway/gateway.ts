/** Wiring of the gateway: configuration → shadow catalog → executor → wire server. */
import type { Logger } from '../common/log.js'
import { Shadow } from './catalog/shadow.js'
import type { GatewayConfig } from './config.js'
import { ShadowDataExecutor, type DataExecutor } from './exec/data-executor.js'
import { Session } from './session/session.js'
import { loadParser } from './session/sql-parse.js'
import { WireServer } from '../common/pgwire/server/server.js'

export interface RunningGateway {
  readonly port: number
  readonly shadow: Shadow
  readonly wire: WireServer
  close(): Promise<void>
}

export interface GatewayParts {
  /** Answers statements that read Fedgres's tables (default: the shadow's empty tables). */
  readonly executor?: DataExecutor
}

export async function startGateway(cfg: GatewayConfig, log: Logger, parts: GatewayParts = {}): Promise<RunningGateway> {
  await loadParser()
  const shadow = await Shadow.start({
    users: cfg.users.map((u) => u.name),
    cacheDir: cfg.catalog.cache_dir,
    statementTimeoutMs: cfg.catalog.statement_timeout,
    log,
  })
  const executor = parts.executor ?? new ShadowDataExecutor()
  const wire = new WireServer({
    host: cfg.listen.host,
    port: cfg.listen.port,
    database: cfg.database,
    users: new Map(cfg.users.map((u) => [u.name, u.scram])),
    tls: cfg.tls,
    maxConnections: cfg.max_connections,
    log,
    createSession: async (ctx) => new Session(ctx, { shadow, executor, log }),
  })
  const port = await wire.listen()
  log.info('gateway listening', { host: cfg.listen.host, port, tls: Boolean(cfg.tls) })
  return {
    port,
    shadow,
    wire,
    async close() {
      await wire.close()
      await shadow.close()
    },
  }
}
