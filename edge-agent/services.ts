/**
 * The edge's network-facing services beside ingest: the query endpoint for gateways and the
 * Consul registration. (Filled in by the federation work; for now the agent serves nothing.)
 */
import type { Logger } from '../common/log.js'
import type { EdgeAgent } from './agent.js'

export interface EdgeServices {
  readonly servePort: number | undefined
  close(): Promise<void>
}

export async function startEdgeServices(_agent: EdgeAgent, _log: Logger): Promise<EdgeServices> {
  return { servePort: undefined, close: async () => {} }
}
