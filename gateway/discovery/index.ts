/** The gateway's edge discovery, chosen by the config's `discovery.kind`. */
import type { Logger } from '../../common/log.js'
import type { GatewayConfig } from '../config.js'
import { ConsulDiscovery } from './consul-discovery.js'
import type { Discovery } from './edge-view.js'
import { StaticDiscovery } from './static-discovery.js'

export { ConsulDiscovery, type ConsulDiscoveryOptions } from './consul-discovery.js'
export { StaticDiscovery, type StaticDiscoveryOptions, type StaticEdge } from './static-discovery.js'
export type { Discovery, EdgeEndpoint, EdgeStatus, EdgeView } from './edge-view.js'

/** Starts discovery at once; await `ready()` before serving queries that need edges. */
export function createDiscovery(cfg: GatewayConfig, log: Logger): Discovery {
  const d = cfg.discovery
  if (d.kind === 'static') {
    return new StaticDiscovery({ edges: d.edges, pollMs: d.synopsis_poll, credentials: cfg.edge_credentials, log })
  }
  return new ConsulDiscovery({ consul: { address: d.address, token: d.token, ca: d.ca }, serviceName: d.service_name, waitMs: d.wait, departedGraceMs: d.departed_grace, log })
}
