/** Where an edge publishes its synopsis: Consul KV in production, or only its own endpoint. */
import type { Synopsis } from '../../schema/synopsis.js'

export interface SynopsisPublisher {
  /** Resolves once the synopsis is visible to gateways; rejects if it could not be published. */
  publish(synopsis: Synopsis): Promise<void>
  close(): Promise<void>
}

/** No registry: the synopsis is served by the edge's own query endpoint (static discovery). */
export class LocalPublisher implements SynopsisPublisher {
  latest: Synopsis | undefined
  async publish(synopsis: Synopsis): Promise<void> {
    this.latest = synopsis
  }
  async close(): Promise<void> {}
}
