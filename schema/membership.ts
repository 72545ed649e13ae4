/**
 * Membership: the record that an edge belongs to the network, kept in Consul's KV store beside
 * its synopsis. The health check says whether an edge serves now; this says that it exists and
 * holds rows, so a gateway knows of an edge that is down, even one it never saw passing (it
 * restarted while the edge was away). Such an edge makes its shard unavailable, and a statement
 * that needs it fails rather than silently missing its rows, until the edge passes again or is
 * decommissioned (`fedgres decommission` deletes its keys).
 *
 * Shared by the edge (which writes it once it serves) and the gateway (which reads it).
 */

export interface EdgeMembership {
  readonly edgeId: string
  /** Edges sharing a shard are replicas. */
  readonly shard: string
  readonly cluster: string
  /** host:port of the query endpoint, as registered. */
  readonly address: string
  readonly schemaVersion: number
  /** Node tags the edge advertises. */
  readonly tags: readonly string[]
  /** The query endpoint requires TLS. */
  readonly tls: boolean
  /** The Consul service the edge registers in (consul.service_name). */
  readonly service: string
  /** When the edge last wrote the record (ISO). */
  readonly enrolledAt: string
}

/** What an edge id may be: it names a Consul service ID and a KV folder (no '.', no '/'). */
export const EDGE_ID = /^[A-Za-z0-9_-]{1,64}$/

/** Where an edge's membership lives; its synopsis is in the same folder. */
export const memberKey = (edgeId: string) => `fedgres/edges/${edgeId}/member`

/** Everything an edge keeps in KV: what decommissioning deletes. */
export const edgeKeyPrefix = (edgeId: string) => `fedgres/edges/${edgeId}/`

/**
 * Left by `fedgres decommission` in place of the edge's keys: gateways drop the edge at once,
 * where records that merely vanished (Consul lost its data) keep a departed edge in the view for
 * its grace. An edge that records itself again deletes it.
 */
export const decommissionedKey = (edgeId: string) => `fedgres/edges/${edgeId}/decommissioned`

/** A membership record read from KV, or undefined when the value is not one of this edge. */
export function parseMembership(edgeId: string, json: string): EdgeMembership | undefined {
  try {
    const m = JSON.parse(json) as Partial<EdgeMembership> | null
    if (m && m.edgeId === edgeId && typeof m.shard === 'string' && m.shard !== '' && typeof m.address === 'string' && Array.isArray(m.tags)) return m as EdgeMembership
  } catch {
    // not JSON: unusable
  }
  return undefined
}
