/**
 * Taking an edge out of the network for good. An edge's membership record keeps its shard in
 * every gateway's view while it is down, so a statement that needs its rows fails rather than
 * silently missing them. When the edge and its rows are gone for good (a node removed), the
 * operator says so: its keys under `fedgres/edges/<id>/` are deleted and a `decommissioned`
 * marker is left, on which gateways drop it at their next KV answer.
 *
 * Refused, so that a running edge is not taken out by mistake (its rows would then go missing
 * from answers without an error once it stops):
 * - while Consul still lists the edge's service instance, whatever its health (an agent that
 *   stops deregisters it; Consul removes a dead one after its DeregisterCriticalServiceAfter);
 * - when the token's view of the service or of the keys is filtered by ACLs;
 * - when a key changes between the check and the delete (each is deleted at the ModifyIndex
 *   read, check-and-set): the edge came back meanwhile.
 * `force` skips the first check only, for an edge known to be gone whose instance Consul still
 * lists. Used on a running edge, the edge records itself again at its next reconcile (within 3
 * minutes); should it stop before that, gateways drop it after their departed grace.
 */
import type { ConsulClient } from '../../common/consul/consul-client.js'
import { decommissionedKey, EDGE_ID, edgeKeyPrefix, memberKey, parseMembership } from '../../schema/membership.js'

export interface DecommissionResult {
  /** The KV keys that were deleted. */
  readonly deleted: readonly string[]
}

export class DecommissionRefused extends Error {}

interface KvEntry {
  Key: string
  ModifyIndex: number
  Value: string | null
}

async function read(client: ConsulClient, path: string, query: Record<string, string>, what: string): Promise<{ status: number; body: string }> {
  const res = await client.request('GET', path, { query })
  if (res.filtered) throw new DecommissionRefused(`Consul filtered ${what} by ACLs: the token must be able to read all of it (see deploy/consul/fedgres-edge-policy.hcl)`)
  if (res.status !== 200 && res.status !== 404) throw new Error(`Consul answered ${res.status} to reading ${what}: ${res.body.slice(0, 200)}`)
  return res
}

export async function decommissionEdge(client: ConsulClient, opts: { edgeId: string; serviceName: string; force: boolean }): Promise<DecommissionResult> {
  // An edge id as the edge config allows it: '.' or 'e/..' would name other edges' keys.
  if (!EDGE_ID.test(opts.edgeId)) throw new DecommissionRefused(`'${opts.edgeId}' is not an edge id (letters, digits, _ and - only)`)
  const prefix = edgeKeyPrefix(opts.edgeId)
  const listed = await read(client, `/v1/kv/${prefix}`, { recurse: '' }, `the keys under ${prefix}`)
  const entries = listed.status === 404 ? [] : (JSON.parse(listed.body) as KvEntry[])
  const keys = entries.filter((e) => e.Key !== decommissionedKey(opts.edgeId))
  if (keys.length === 0) {
    throw new DecommissionRefused(entries.length > 0 ? `edge ${opts.edgeId} is already decommissioned` : `edge ${opts.edgeId} has no keys under ${prefix} in Consul: nothing to decommission (check the edge id)`)
  }
  const member = entries.find((e) => e.Key === memberKey(opts.edgeId))
  const recorded = member?.Value ? parseMembership(opts.edgeId, Buffer.from(member.Value, 'base64').toString('utf8')) : undefined
  const service = recorded?.service ?? opts.serviceName
  if (!opts.force) {
    const instances = await read(client, `/v1/catalog/service/${encodeURIComponent(service)}`, {}, `the instances of service ${service}`)
    const list = instances.status === 404 ? [] : (JSON.parse(instances.body) as { ServiceID?: string; ServiceMeta?: Record<string, string> | null }[])
    if (list.some((s) => s.ServiceID === `edge-${opts.edgeId}` || s.ServiceMeta?.['edge_id'] === opts.edgeId)) {
      throw new DecommissionRefused(
        `edge ${opts.edgeId} is still registered in Consul (service ${service}): stop its agent, which deregisters it, or wait until Consul removes a dead one ` +
          `(consul.deregister_after, 10 minutes by default); --force skips this check`,
      )
    }
  }
  const deleted: string[] = []
  for (const e of keys) {
    if (!(await client.kvDelete(e.Key, e.ModifyIndex))) {
      throw new DecommissionRefused(`${e.Key} changed while edge ${opts.edgeId} was being decommissioned (is it running again?); deleted so far: ${deleted.join(', ') || 'nothing'}. Run it again once the edge is stopped`)
    }
    deleted.push(e.Key)
  }
  if (!(await client.kvPut(decommissionedKey(opts.edgeId), JSON.stringify({ edgeId: opts.edgeId, at: new Date().toISOString() })))) {
    throw new Error(`Consul did not store ${decommissionedKey(opts.edgeId)}`)
  }
  return { deleted }
}
