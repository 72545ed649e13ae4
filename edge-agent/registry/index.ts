/** Where the edge publishes its synopsis: Consul when configured, otherwise only its own endpoint. */
import type { Logger } from '../../common/log.js'
import { SCHEMA_VERSION } from '../../schema/index.js'
import type { EdgeConfig } from '../config.js'
import { ConsulRegistration } from './consul-registration.js'
import { LocalPublisher } from './publisher.js'

export { ConsulRegistration, type ConsulRegistrationOptions } from './consul-registration.js'
export { LocalPublisher, type SynopsisPublisher } from './publisher.js'

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]'])

/**
 * The host and port gateways should dial: `serve.advertise` (`host` or `host:port`) when set,
 * else `serve.host` unless it is a wildcard, else empty so that Consul readers use the node's
 * address (docs/consul.md §3.5), which is right with one local Consul agent per edge host.
 */
export function advertisedEndpoint(cfg: EdgeConfig, servePort: number): { address: string; port: number } {
  const adv = cfg.serve.advertise?.trim()
  if (adv) {
    const m = /^(.*):(\d+)$/.exec(adv)
    // A bare IPv6 literal has colons too; only `[v6]:port` or `host:port` carry a port.
    if (m && (!m[1]!.includes(':') || m[1]!.startsWith('['))) return { address: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) }
    return { address: adv, port: servePort }
  }
  return { address: WILDCARD.has(cfg.serve.host) ? '' : cfg.serve.host, port: servePort }
}

/**
 * A ConsulRegistration when `cfg.consul` is set (call `start()` once the query endpoint
 * listens on `servePort`), else a LocalPublisher. Throws ConsulMetaError for a configuration
 * whose service Meta Consul would refuse.
 */
export function createPublisher(cfg: EdgeConfig, servePort: number, log: Logger): ConsulRegistration | LocalPublisher {
  if (!cfg.consul) return new LocalPublisher()
  const c = cfg.consul
  const { address, port } = advertisedEndpoint(cfg, servePort)
  return new ConsulRegistration({
    edgeId: cfg.edge_id,
    serviceName: c.service_name,
    address,
    port,
    shard: cfg.shard ?? cfg.edge_id,
    cluster: cfg.cluster,
    schemaVersion: SCHEMA_VERSION,
    nodeTags: cfg.node_tags,
    tls: cfg.serve.tls !== undefined,
    ttlMs: c.ttl,
    deregisterAfterMs: c.deregister_after,
    consul: { address: c.address, token: c.token, ca: c.ca },
    log,
  })
}
