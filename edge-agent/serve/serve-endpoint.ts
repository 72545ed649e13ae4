/**
 * The edge's query endpoint: the PostgreSQL wire protocol for gateways only. Startup, TLS and
 * SCRAM-SHA-256 are the shared wire server's; every session is an EdgeSession over the store.
 * With no users configured nobody can log in: an edge is never open by default.
 */
import { rmSync } from 'node:fs'
import type { Logger } from '../../common/log.js'
import { WireServer } from '../../common/pgwire/server/server.js'
import { loadModule } from 'libpg-query'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { EdgeStore } from '../store/edge-store.js'
import { EdgeSession } from './edge-session.js'
import { SettingsChecker, reportedParameters, settingsSql, startupSettings, type Settings } from './session-settings.js'

export interface EdgeEndpointOptions {
  readonly host: string
  readonly port: number
  readonly users: readonly { readonly name: string; readonly scram: string }[]
  readonly tls?: { readonly cert: string; readonly key: string }
  readonly log: Logger
  readonly onStatement?: () => void
  /**
   * Where a reply a gateway reads slower than the store makes it waits beyond REPLY_MEMORY_BYTES
   * (on the data's disk). Without it, such a reply waits in memory.
   */
  readonly replySpillDir?: string
}

/** A connection's reply bytes held in memory before the rest waits on disk. */
export const REPLY_MEMORY_BYTES = 4 * 1024 * 1024

export interface EdgeEndpoint {
  readonly port: number
  close(): Promise<void>
}

/** The database name gateways connect to. */
export const EDGE_DATABASE = 'fedgres'

/** `store` returns the store once it is open; until then sessions are refused with 57P03. */
let parserLoaded: Promise<void> | undefined

export async function startEdgeEndpoint(store: () => EdgeStore | undefined, opts: EdgeEndpointOptions): Promise<EdgeEndpoint> {
  const log = opts.log.child({ component: 'serve' })
  if (opts.users.length === 0) log.warn('no serve.users configured: no gateway can log in to this edge')
  let parameters: Promise<Settings> | undefined
  /** What the edge reports at startup, read from the store once: its real values, not assumed ones. */
  const checkers = new WeakMap<EdgeStore, SettingsChecker>()
  const parametersOf = (s: EdgeStore): Promise<Settings> =>
    (parameters ??= s
      .query<Record<string, string>>(`SELECT current_setting('server_version') AS v, current_setting('DateStyle') AS d, current_setting('TimeZone') AS z, current_setting('IntervalStyle') AS i`)
      .then(([r]) => [
        ['server_version', r?.v ?? '18'],
        ['server_encoding', 'UTF8'],
        ['client_encoding', 'UTF8'],
        ['DateStyle', r?.d ?? 'ISO, MDY'],
        ['IntervalStyle', r?.i ?? 'postgres'],
        ['integer_datetimes', 'on'],
        ['standard_conforming_strings', 'on'],
        ['TimeZone', r?.z ?? 'UTC'],
      ] as const))
    .catch((e: unknown) => {
      parameters = undefined
      throw e
    })
  // Spill files are unlinked once open; one left by a crash between the two goes here.
  if (opts.replySpillDir) rmSync(opts.replySpillDir, { recursive: true, force: true })
  const wire = new WireServer({
    replySpill: opts.replySpillDir ? { dir: opts.replySpillDir, memoryBytes: REPLY_MEMORY_BYTES } : undefined,
    host: opts.host,
    port: opts.port,
    database: EDGE_DATABASE,
    users: new Map(opts.users.map((u) => [u.name, u.scram])),
    tls: opts.tls && { ...opts.tls, required: false },
    maxConnections: 200,
    log,
    createSession: async (ctx) => {
      const s = store()
      if (!s) throw new PgError(SqlState.CannotConnectNow, 'the edge is starting up')
      // The statement guard's parser (WebAssembly) is loaded when the first gateway connects,
      // not at start: an edge no gateway queries keeps its memory for ingest.
      await (parserLoaded ??= loadModule())
      let checker = checkers.get(s)
      if (!checker) checkers.set(s, (checker = new SettingsChecker(s)))
      const settings = await checker.check(startupSettings(ctx.startupParams))
      const setup = settings.length ? settingsSql(settings) : undefined
      return new EdgeSession({ store: s, parameters: reportedParameters(await parametersOf(s), settings), setup, log, onStatement: opts.onStatement })
    },
  })
  const port = await wire.listen()
  log.info('edge endpoint listening', { host: opts.host, port, tls: Boolean(opts.tls) })
  return { port, close: () => wire.close() }
}
