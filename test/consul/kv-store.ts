/**
 * The KV store of the project's Consul test server, with Consul's index rules: a key reports its
 * own ModifyIndex, a missing key the KV table index, a prefix the highest ModifyIndex under it
 * including deletions (Consul keeps tombstones for that, so a blocking list wakes on a delete).
 * Sessions are not modelled, so no key is ever locked.
 */
import type { KvPairJson } from './api-types.js'
import { clampIndex, type RaftLog } from './raft-log.js'

export interface KvRec {
  key: string
  value: Buffer
  flags: number
  lockIndex: number
  session: string
  createIndex: number
  modifyIndex: number
}

export class KvStore {
  readonly #entries = new Map<string, KvRec>()
  /** Deleted keys and the index of their deletion (Consul's graveyard). */
  readonly #tombstones = new Map<string, number>()
  #tableIndex = 1

  constructor(readonly log: RaftLog) {
    log.onReset((to) => {
      for (const e of this.#entries.values()) {
        e.createIndex = clampIndex(e.createIndex, to)
        e.modifyIndex = clampIndex(e.modifyIndex, to)
      }
      for (const [k, i] of this.#tombstones) this.#tombstones.set(k, clampIndex(i, to))
      this.#tableIndex = clampIndex(this.#tableIndex, to)
    })
  }

  get(key: string): { index: number; entry: KvRec | undefined } {
    const entry = this.#entries.get(key)
    return { index: entry ? entry.modifyIndex : this.#tableIndex, entry }
  }

  /** Entries under `prefix`, sorted by key as Consul's radix tree iterates them. */
  list(prefix: string): { index: number; entries: KvRec[] } {
    const entries = [...this.#entries.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => cmp(a.key, b.key))
    return { index: this.#prefixIndex(prefix, entries), entries }
  }

  /** The index of a `recurse` list of `prefix` (as `list(prefix).index`), without listing it. */
  prefixIndex(prefix: string): number {
    if (prefix === '') return this.#tableIndex
    let max = 0
    for (const e of this.#entries.values()) if (e.modifyIndex > max && e.key.startsWith(prefix)) max = e.modifyIndex
    for (const [k, i] of this.#tombstones) if (i > max && k.startsWith(prefix)) max = i
    return max > 0 ? max : this.#tableIndex
  }

  /** `?keys[&separator=]`: keys under `prefix`, collapsed after the first separator past it. */
  keys(prefix: string, separator: string): { index: number; keys: string[] } {
    const { index, entries } = this.list(prefix)
    const keys: string[] = []
    let prev = ''
    for (const e of entries) {
      const at = separator === '' ? -1 : e.key.indexOf(separator, prefix.length)
      if (at === -1) {
        keys.push(e.key)
        continue
      }
      const k = e.key.slice(0, at + separator.length)
      if (prev === '' || !k.startsWith(prev)) keys.push(k)
      prev = k
    }
    return { index, keys }
  }

  /** PUT: `cas` 0 creates only, N > 0 replaces only at ModifyIndex N. Every PUT goes through raft. */
  put(key: string, value: Buffer, opts: { cas?: number; flags: number }): boolean {
    return this.log.write((idx) => {
      const old = this.#entries.get(key)
      if (opts.cas !== undefined && (opts.cas === 0 ? old !== undefined : old?.modifyIndex !== opts.cas)) return { changed: false, result: false }
      this.#entries.set(key, {
        key, value, flags: opts.flags, lockIndex: old?.lockIndex ?? 0, session: old?.session ?? '', createIndex: old?.createIndex ?? idx, modifyIndex: idx,
      })
      this.#tableIndex = idx
      return { changed: true, result: true }
    }, true)
  }

  /**
   * DELETE: one key, a whole prefix (`recurse`), or one key at ModifyIndex `cas`. A CAS delete of
   * a key that is already gone succeeds, as in Consul's state store.
   */
  delete(key: string, opts: { recurse: boolean; cas?: number }): boolean {
    return this.log.write((idx) => {
      const doomed = opts.recurse ? this.list(key).entries : [this.#entries.get(key)].filter((e) => e !== undefined)
      if (!opts.recurse && opts.cas !== undefined && doomed[0] && doomed[0].modifyIndex !== opts.cas) return { changed: false, result: false }
      for (const e of doomed) {
        this.#entries.delete(e.key)
        this.#tombstones.set(e.key, idx)
      }
      if (doomed.length > 0) this.#tableIndex = idx
      return { changed: doomed.length > 0, result: true }
    }, true)
  }

  /** `?release=<session>`: nothing is ever locked here, so a release never succeeds. */
  release(): boolean {
    return this.log.write(() => ({ changed: false, result: false }), true)
  }

  #prefixIndex(prefix: string, entries: KvRec[]): number {
    // Listing everything uses the table index, as Consul does.
    if (prefix === '') return this.#tableIndex
    let max = 0
    for (const e of entries) max = Math.max(max, e.modifyIndex)
    for (const [k, i] of this.#tombstones) if (k.startsWith(prefix)) max = Math.max(max, i)
    return max > 0 ? max : this.#tableIndex
  }
}

export function kvJson(e: KvRec): KvPairJson {
  return {
    LockIndex: e.lockIndex,
    Key: e.key,
    Flags: e.flags,
    Value: e.value.length > 0 ? e.value.toString('base64') : null,
    ...(e.session !== '' ? { Session: e.session } : {}),
    CreateIndex: e.createIndex,
    ModifyIndex: e.modifyIndex,
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
