/**
 * What a gateway reads from Consul's answers (docs/consul.md §3.5, §3.7): an edge from a health
 * entry, whether an endpoint of the view already says all a member says, an edge's synopsis from
 * its KV value, and the edges' keys of a KV answer.
 */
import type { Synopsis } from '../../schema/synopsis.js'
import type { EdgeEndpoint } from './edge-view.js'
import type { Member } from './membership-records.js'

/** The parts of `api.ServiceEntry` and `api.KVPair` read here (§3.5, §3.7). */
export interface ServiceEntryWire {
  Node?: { Address?: string }
  Service?: { ID?: string; Address?: string; Port?: number; Meta?: Record<string, string> | null }
  Checks?: { Status?: string }[]
}
export interface KvPairWire {
  Key?: string
  Value?: string | null
  ModifyIndex?: number
}

/** A synopsis the gateway holds, with the KV value it was read from. */
export interface HeldSynopsis {
  readonly synopsis: Synopsis
  /**
   * The KV value (base64) it was read from. Every KV answer lists every edge's synopsis, and one
   * with the very same value is not parsed again; the value is compared, not its ModifyIndex,
   * which a Consul that lost its data can hand out again for a different value (the gateway would
   * then keep pruning with the old synopsis).
   */
  readonly raw: string | null
}

/** Whether an endpoint already says all that a member says (every field, tags by value). */
export function sameMember(e: EdgeEndpoint, m: Member): boolean {
  for (const k of Object.keys(m) as (keyof Member)[]) {
    const a = e[k]
    const b = m[k]
    if (a === b) continue
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || a.some((x, i) => x !== b[i])) return false
  }
  // A field the endpoint has and the member lacks (an optional one, dropped) is a change too.
  return Object.keys(e).length === Object.keys(m).length + 2
}

/** An edge from a health entry: Meta written by ConsulRegistration; Node.Address when Service.Address is empty (§3.5). */
export function memberOf(entry: ServiceEntryWire): Member | undefined {
  const svc = entry.Service
  const meta = svc?.Meta ?? {}
  const edgeId = meta['edge_id'] || (svc?.ID?.startsWith('edge-') ? svc.ID.slice('edge-'.length) : '')
  const host = svc?.Address || entry.Node?.Address || ''
  if (!edgeId || !host || !svc?.Port) return undefined
  const statuses = (entry.Checks ?? []).map((c) => c.Status)
  const status = statuses.every((s) => s === 'passing') ? 'passing' : statuses.includes('critical') ? 'critical' : 'warning'
  return {
    edgeId,
    host,
    port: svc.Port,
    shard: meta['shard'] || edgeId,
    cluster: meta['cluster'] || null,
    tags: (meta['tags'] ?? '').split(',').filter((t) => t !== ''),
    schemaVersion: Number(meta['schema_version']) || 0,
    status,
    tls: meta['tls'] === 'true',
  }
}

/** An edge's synopsis from its KV value (base64 JSON); throws when it is not one of this edge. */
export function synopsisOf(edgeId: string, value: string | null): Synopsis {
  const s = JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8')) as Partial<Synopsis> | null
  if (s && s.edgeId === edgeId && typeof s.version === 'number' && typeof s.publishedAt === 'string' && s.tables?.alerts && s.tables.logs) return s as Synopsis
  throw new Error('not a synopsis of this edge')
}

const EDGE_KEY = /^fedgres\/edges\/([^/]+)\/(synopsis|member|decommissioned)$/

/** How kvEdges reads one value (and reports a rollback it refused). */
export interface KvReaders {
  record(edgeId: string, raw: string | null, modifyIndex: number): Member | undefined
  /** Undefined for an unusable value: no synopsis, so the edge is never pruned. */
  synopsis(edgeId: string, raw: string | null, modifyIndex: number): Synopsis | undefined
  olderKept(edgeId: string, consulVersion: number, heldVersion: number): void
}

/**
 * The edges of a KV answer (every key under `fedgres/edges/`): their synopses, reusing a held one
 * whose value is unchanged; their membership records; the decommissioned ones.
 */
export function kvEdges(pairs: readonly KvPairWire[], prev: ReadonlyMap<string, HeldSynopsis>, read: KvReaders): { synopses: Map<string, HeldSynopsis>; records: Map<string, Member>; decommissioned: Set<string> } {
  const synopses = new Map<string, HeldSynopsis>()
  const records = new Map<string, Member>()
  const decommissioned = new Set<string>()
  for (const p of pairs) {
    const [, id, kind] = EDGE_KEY.exec(p.Key ?? '') ?? []
    if (!id) continue
    const modifyIndex = p.ModifyIndex ?? 0
    const raw = p.Value ?? null
    if (kind === 'decommissioned') {
      decommissioned.add(id)
    } else if (kind === 'member') {
      const m = read.record(id, raw, modifyIndex)
      if (m) records.set(id, m)
    } else {
      const held = prev.get(id)
      if (held && held.raw === raw) {
        synopses.set(id, held)
        continue
      }
      const synopsis = read.synopsis(id, raw, modifyIndex)
      if (!synopsis) continue
      // A KV rollback (snapshot restore) must not bring back a narrower synopsis than one this
      // gateway has already seen; a re-created edge (new data dir) restarts its versions, but
      // publishes later, so it still wins.
      if (held && synopsis.version < held.synopsis.version && synopsis.publishedAt <= held.synopsis.publishedAt) {
        read.olderKept(id, synopsis.version, held.synopsis.version)
        synopses.set(id, { synopsis: held.synopsis, raw })
        continue
      }
      synopses.set(id, { synopsis, raw })
    }
  }
  return { synopses, records, decommissioned }
}
