/**
 * The edge's network-facing services beside ingest: the query endpoint for gateways, and the
 * registration in Consul (or none, for static discovery). The endpoint listens before the store
 * opens, so its port can be registered; sessions wait for the store.
 */
import type { Logger } from '../common/log.js'
import { errorMeta } from '../common/log.js'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { EdgeAgent } from './agent.js'
import { acquireLock } from './lock-file.js'
import type { EdgeConfig } from './config.js'
import { ConsulRegistration, createPublisher } from './registry/index.js'
import { startEdgeEndpoint, type EdgeEndpoint } from './serve/serve-endpoint.js'

export interface RunningEdge {
  readonly agent: EdgeAgent
  readonly servePort: number
  /** Statements that read the event tables served since start. */
  readonly served: () => number
  stop(): Promise<void>
}

export async function startEdge(cfg: EdgeConfig, log: Logger): Promise<RunningEdge> {
  let served = 0
  let agent: EdgeAgent | undefined
  // The data dir is locked first: a second agent on it is refused for that, before any port is taken.
  mkdirSync(cfg.data_dir, { recursive: true })
  const lock = acquireLock(cfg.data_dir)
  let endpoint: EdgeEndpoint
  try {
    endpoint = await startEdgeEndpoint(() => agent?.store, {
      host: cfg.serve.host,
      port: cfg.serve.port,
      users: cfg.serve.users,
      tls: cfg.serve.tls,
      log,
      onStatement: () => served++,
      replySpillDir: join(cfg.data_dir, 'reply-spill'),
    })
  } catch (e) {
    lock()
    throw e
  }
  const publisher = createPublisher(cfg, endpoint.port, log)
  try {
    agent = await EdgeAgent.start(cfg, log, publisher, lock)
  } catch (e) {
    await endpoint.close()
    await publisher.close().catch(() => {})
    throw e
  }
  if (publisher instanceof ConsulRegistration) {
    await publisher.start().catch((e: unknown) => log.warn('Consul registration failed; retrying in the background', errorMeta(e)))
  }
  const running = agent
  return {
    agent: running,
    servePort: endpoint.port,
    served: () => served,
    async stop() {
      await endpoint.close()
      await running.stop() // closes the publisher (deregisters from Consul)
    },
  }
}
