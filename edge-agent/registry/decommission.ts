/**
 * Taking an edge out of the network for good. An edge's membership record keeps its shard in
 * every gateway's view while it is down, so a statement that needs its rows fails rather than
 * silently missing them. When the edge and its rows are gone for good (a node removed), the
 * operator says so: its keys under `fedgres/edges/<id>/` are deleted, and gateways drop it from
 * their view at their next KV answer. An edge that still passes its check is refused, since it
 * would serve rows no gateway asks for; `force` overrides that (it then records itself again
 * when it next registers).
 */
import type { ConsulClient } from '../../common/consul/consul-client.js'
import { edgeKeyPrefix } from '../../schema/membership.js'

export interface DecommissionResult {
  /** The KV keys that were deleted. */
  readonly deleted: readonly string[]
}

export class DecommissionRefused extends Error {}

/** Whether Consul lists the edge as passing in service `serviceName`. */
async function isPassing(client: ConsulClient, serviceName: string, edgeId: string): Promise<boolean> {
  const res = await client.request('GET', `/v1/health/service/${encodeURIComponent(serviceName)}`, { query: { passing: '1' } })
  if (res.status !== 200) throw new Error(`Consul answered ${res.status} to the health query: ${res.body.slice(0, 200)}`)
  const entries = JSON.parse(res.body) as { Service?: { ID?: string; Meta?: Record<string, string> | null } }[]
  return entries.some((e) => e.Service?.Meta?.['edge_id'] === edgeId || e.Service?.ID === `edge-${edgeId}`)
}

export async function decommissionEdge(client: ConsulClient, opts: { edgeId: string; serviceName: string; force: boolean }): Promise<DecommissionResult> {
  const prefix = edgeKeyPrefix(opts.edgeId)
  const keys = await client.kvKeys(prefix)
  if (keys.length === 0) throw new DecommissionRefused(`edge ${opts.edgeId} has no keys under ${prefix} in Consul: nothing to decommission (check the edge id and the token's KV read access)`)
  if (!opts.force && (await isPassing(client, opts.serviceName, opts.edgeId))) {
    throw new DecommissionRefused(`edge ${opts.edgeId} is passing its health check in Consul: stop its agent first (or use --force, and it records itself again when it next registers)`)
  }
  if (!(await client.kvDeleteTree(prefix))) throw new Error(`Consul did not delete ${prefix}`)
  return { deleted: keys }
}
