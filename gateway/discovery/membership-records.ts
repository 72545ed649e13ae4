/**
 * The edges' membership records as one gateway holds them (schema/membership.ts): read from each
 * KV answer of the discovery's watch, they name the edges that exist and hold rows, passing or
 * not. An edge with a record that does not pass is in the view as critical, so a statement that
 * needs it fails rather than silently missing its rows; a `decommissioned` marker is the one
 * thing that takes a departed edge out before its grace ends.
 */
import type { Logger } from '../../common/log.js'
import { parseMembership } from '../../schema/membership.js'
import type { EdgeEndpoint } from './edge-view.js'

/** What discovery knows of an edge besides its synopsis. */
export type Member = Omit<EdgeEndpoint, 'synopsis' | 'synopsisCurrentAt'>

/** One KV answer's records (`member` keys) and markers (`decommissioned` keys). */
export interface RecordsRead {
  readonly records: ReadonlyMap<string, Member>
  readonly decommissioned: ReadonlySet<string>
}

export class MembershipRecords {
  #records = new Map<string, Member>()
  /** Edges warned about as recorded but not passing, until they pass or lose their record. */
  readonly #absentWarned = new Set<string>()
  /** Unusable records already warned about (id@ModifyIndex), so each is logged once. */
  readonly #badWarned = new Set<string>()

  constructor(private readonly log: Logger) {}

  /**
   * What each edge's record value (base64, as Consul sent it) parsed to. Every KV answer lists
   * every record, thousands in a large network, and almost all are unchanged: one with the very
   * same value is not decoded again. The value itself is compared, not its ModifyIndex, which a
   * Consul that lost its data can hand out again for a different value.
   */
  #parsed = new Map<string, { readonly raw: string | null; readonly member: Member | undefined }>()

  /** A record's Member (critical until health says otherwise), or undefined for an unusable one. */
  parse(edgeId: string, base64: string | null, modifyIndex: number): Member | undefined {
    const held = this.#parsed.get(edgeId)
    if (held && held.raw === base64) return held.member
    const member = this.#decode(edgeId, base64, modifyIndex)
    this.#parsed.set(edgeId, { raw: base64, member })
    return member
  }

  #decode(edgeId: string, base64: string | null, modifyIndex: number): Member | undefined {
    const m = parseMembership(edgeId, Buffer.from(base64 ?? '', 'base64').toString('utf8'))
    const colon = m?.address.lastIndexOf(':') ?? -1
    if (!m || colon < 1) {
      const key = `${edgeId}@${modifyIndex}`
      if (!this.#badWarned.has(key)) this.log.warn('unusable membership record in Consul KV; ignored', { edgeId })
      this.#badWarned.add(key)
      return undefined
    }
    return {
      edgeId, host: m.address.slice(0, colon), port: Number(m.address.slice(colon + 1)) || 0, shard: m.shard, cluster: m.cluster || null,
      tags: m.tags, schemaVersion: m.schemaVersion, status: 'critical', tls: m.tls === true,
    }
  }

  /**
   * Takes a KV answer's records. Returns, of the edges recorded before and not now that do not
   * pass, those decommissioned (to leave the view at once) and those whose record merely vanished
   * (Consul lost its data: to stay, as departed, for the grace).
   */
  replace(read: RecordsRead, passing: ReadonlyMap<string, Member> | undefined): { decommissioned: string[]; vanished: Member[] } {
    const decommissioned = [...read.decommissioned].filter((id) => !read.records.has(id))
    const vanished = [...this.#records.values()].filter((m) => !read.records.has(m.edgeId) && !passing?.has(m.edgeId) && !read.decommissioned.has(m.edgeId))
    this.#records = new Map(read.records)
    // Forget the values of keys this answer did not list (an unusable one is decoded again).
    for (const id of this.#parsed.keys()) if (!read.records.has(id)) this.#parsed.delete(id)
    return { decommissioned, vanished }
  }

  /** Recorded edges that neither pass nor are kept as departed; each is warned about once per absence. */
  absent(passing: ReadonlyMap<string, Member>, departed: (edgeId: string) => boolean): Member[] {
    const absent = [...this.#records.values()].filter((m) => !passing.has(m.edgeId) && !departed(m.edgeId))
    for (const m of absent) {
      if (this.#absentWarned.has(m.edgeId)) continue
      this.#absentWarned.add(m.edgeId)
      this.log.warn('edge recorded in Consul KV is not passing; its shard is unavailable until it passes again or is decommissioned', { edgeId: m.edgeId, shard: m.shard })
    }
    for (const id of this.#absentWarned) if (passing.has(id) || !this.#records.has(id)) this.#absentWarned.delete(id)
    return absent
  }
}
