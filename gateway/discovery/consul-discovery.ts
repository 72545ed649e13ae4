/**
 * Discovery through Consul (docs/consul.md §6, gateway side): two rate-limited blocking loops,
 * one on `health/service/<name>?passing` (which edges serve) and one on the KV prefix
 * `fedgres/edges/` (their synopses), joined by edge id into an immutable EdgeView.
 *
 * Pruning must stay exact: an edge waits `publish_grace` after publishing a widened synopsis
 * before it commits the rows it covers, so a synopsis is "current" as of the KV loop's last
 * answer, or of the last probe that found the prefix's index unchanged while the next poll was
 * parked (index-confirmation.ts: a parked poll alone proves nothing if its connection died).
 * After an error its time stays there, and the planner stops pruning with it once that is older
 * than it tolerates. Through an outage the last good view is served, marked stale, rather than
 * dropping to zero edges (§6.4).
 *
 * The KV prefix also holds each edge's membership record (schema/membership.ts), written once it
 * served. An edge with a record that does not pass (stopped, crashed, unreachable, or hidden from
 * this gateway's token) is in the view as critical: its shard is unavailable, so a statement that
 * needs its rows fails with 08006 rather than silently missing them, even on a gateway that never
 * saw it passing. It leaves the view only when decommissioned (its keys deleted and a marker
 * left), or, for an edge without a record, once `departedGraceMs` has passed.
 */
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import { BlockingWatch } from '../../common/consul/blocking-watch.js'
import { ConsulClient, type ConsulClientOptions } from '../../common/consul/consul-client.js'
import type { Synopsis } from '../../schema/synopsis.js'
import type { Discovery, EdgeEndpoint, EdgeView } from './edge-view.js'
import { kvEdges, memberOf, sameMember, synopsisOf, type HeldSynopsis, type KvPairWire, type ServiceEntryWire } from './consul-entries.js'
import { MembershipRecords, type Member } from './membership-records.js'
import { KV_PREFIX, startWatchProbes, type WatchProbes } from './watch-probes.js'

export interface ConsulDiscoveryOptions {
  readonly consul: ConsulClientOptions
  /** The edges' Consul service name (default `fedgres-edge`). */
  readonly serviceName?: string
  /** `wait` of each blocking read, ms (default 30 s). */
  readonly waitMs?: number
  /** Token bucket per loop; default burst 2, a token per 400 ms (see DEFAULT_WATCH_RATE). */
  readonly rate?: { readonly burst: number; readonly refillMs: number }
  /** Error backoff per loop; default 250 ms doubling to 10 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number }
  /** How long an edge that stopped passing stays in the view as critical (default 10 min; see #departed). */
  readonly departedGraceMs?: number
  readonly log: Logger
}

const DEPARTED_GRACE_MS = 600_000

/** How long the view's endpoint list is reused while its synopses are confirmed current. */
const REUSE_MS = 100

export class ConsulDiscovery implements Discovery {
  readonly #log: Logger
  readonly #client: ConsulClient
  readonly #health: BlockingWatch
  readonly #kv: BlockingWatch
  readonly #probes: WatchProbes
  readonly #listeners = new Set<(view: EdgeView) => void>()
  readonly #readyWaiters = new Set<() => void>()
  #members: Map<string, Member> | undefined
  /**
   * Edges this view listed as passing that Consul no longer lists (their check failed, their agent
   * stopped, a Consul restart forgot them), kept as critical until `until`. Dropped from the view
   * at once, their rows went missing from answers with no error: `count(*)` answered 250 of 500.
   * As critical, a statement that needs them fails with 08006 naming them (or, with partial
   * results, gets a NOTICE), until they pass again or the grace ends (an edge taken away for good).
   */
  readonly #departed = new Map<string, { readonly member: Member; readonly until: number }>()
  readonly #departedGraceMs: number
  #departedTimer: NodeJS.Timeout | undefined
  #synopses: Map<string, HeldSynopsis> | undefined
  readonly #records: MembershipRecords
  #outage = false
  /** The member each endpoint of the view says all of (the same object answer after answer, mostly). */
  #madeFrom = new WeakMap<EdgeEndpoint, Member>()
  #base: EdgeView = { version: 0, edges: [], stale: true, takenAt: Date.now() }
  #closed = false
  /** Bad KV values already warned about (key@ModifyIndex), so each is logged once. */
  readonly #warned = new Set<string>()

  constructor(opts: ConsulDiscoveryOptions) {
    this.#log = opts.log.child({ component: 'consul-discovery' })
    this.#departedGraceMs = opts.departedGraceMs ?? DEPARTED_GRACE_MS
    this.#records = new MembershipRecords(this.#log)
    this.#client = new ConsulClient(opts.consul)
    const common = { client: this.#client, waitMs: opts.waitMs ?? 30_000, rate: opts.rate, backoff: opts.backoff, log: this.#log }
    const service = opts.serviceName ?? 'fedgres-edge'
    const healthPath = `/v1/health/service/${encodeURIComponent(service)}`
    this.#health = new BlockingWatch({
      ...common, name: 'health', path: healthPath, query: { passing: '1' },
      onData: (body, changed) => this.#onData(changed ? () => this.#onHealth(body ?? '[]') : undefined),
      onError: (e, n) => this.#onError('health', e, n),
    })
    this.#kv = new BlockingWatch({
      // A token that cannot read every key would hide edges' membership records: an error.
      ...common, name: 'kv', path: `/v1/kv/${KV_PREFIX}`, query: { recurse: '' }, notFoundIsEmpty: true, refuseFiltered: true,
      onData: (body, changed) => this.#onData(changed ? () => this.#onKv(body) : undefined),
      onError: (e, n) => this.#onError('kv', e, n),
    })
    this.#health.start()
    this.#kv.start()
    this.#probes = startWatchProbes(this.#client, this.#kv, this.#health, healthPath, this.#log)
  }

  /** Requests each loop has sent, and the index probes of each (for tests and metrics). */
  get requests(): { health: number; kv: number; kvProbes: number; healthProbes: number } {
    return { health: this.#health.requests, kv: this.#kv.requests, kvProbes: this.#probes.kv.probes, healthProbes: this.#probes.health.probes }
  }

  current(): EdgeView {
    const now = Date.now()
    const at = this.#synopsisCurrentAt()
    // Every statement plans on this list (and the planner keeps what it works out per list), so
    // it is rebuilt only when the view changes or its confirmation time moves by REUSE_MS: an
    // edge's synopsis then reads up to REUSE_MS older than it is, which never prunes more.
    const kept = this.#endpoints
    if (!kept || kept.base !== this.#base || at < kept.at || at - kept.at >= REUSE_MS) {
      this.#endpoints = { base: this.#base, at, edges: this.#base.edges.map((e) => ({ ...e, synopsisCurrentAt: at })) }
    }
    return { ...this.#base, takenAt: now, edges: this.#endpoints!.edges }
  }

  #endpoints: { base: EdgeView; at: number; edges: readonly EdgeEndpoint[] } | undefined

  async ready(timeoutMs = 10_000): Promise<EdgeView> {
    if (!this.#loaded && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.#readyWaiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, timeoutMs)
        this.#readyWaiters.add(done)
      })
    }
    return this.current()
  }

  onChange(listener: (view: EdgeView) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The departed edges still within their grace; the view is updated again when the next one ends. */
  #departedNow(): Member[] {
    const now = Date.now()
    for (const [id, d] of this.#departed) if (d.until <= now) this.#departed.delete(id)
    clearTimeout(this.#departedTimer)
    const next = Math.min(...[...this.#departed.values()].map((d) => d.until))
    if (Number.isFinite(next) && !this.#closed) {
      this.#departedTimer = setTimeout(() => this.#update(), next - now + 1)
      this.#departedTimer.unref()
    }
    return [...this.#departed.values()].map((d) => d.member)
  }

  /** Aborts both polls in flight, waits for the loops to exit, and closes every socket. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#departedTimer)
    await Promise.all([this.#health.close(), this.#kv.close(), this.#probes.kv.close(), this.#probes.health.close()])
    await this.#client.close()
    for (const done of [...this.#readyWaiters]) done()
    this.#listeners.clear()
  }

  get #loaded(): boolean {
    return this.#members !== undefined && this.#synopses !== undefined
  }

  /**
   * The last time Consul vouched for the synopses: the last good answer (when its headers came),
   * or the last probe that found the index unchanged while a poll was parked, whichever is later.
   * Never "now" on trust: between polls (waiting for a rate token) changes may wait unseen.
   */
  #synopsisCurrentAt(): number {
    return Math.max(this.#kv.lastSuccessAt ?? 0, this.#probes.kv.confirmedAt)
  }

  /** Every successful answer, changed or not (an unchanged one can still end an outage). */
  #onData(apply: (() => void) | undefined): void {
    apply?.()
    this.#recovered()
    this.#update()
  }

  #onHealth(body: string): void {
    const members = new Map<string, Member>()
    for (const entry of JSON.parse(body) as ServiceEntryWire[]) {
      const m = memberOf(entry)
      if (!m) {
        this.#log.debug('health entry without an edge id skipped', { serviceId: entry.Service?.ID })
        continue
      }
      if (members.has(m.edgeId)) this.#log.warn('two passing instances claim one edge id; keeping one', { edgeId: m.edgeId })
      members.set(m.edgeId, m)
    }
    const until = Date.now() + this.#departedGraceMs
    for (const [id, m] of this.#members ?? []) {
      if (members.has(id) || this.#departed.has(id)) continue
      this.#departed.set(id, { member: { ...m, status: 'critical' }, until })
      this.#log.warn('edge no longer passing in Consul; its shard is unavailable until it passes again', { edgeId: id, graceMs: this.#departedGraceMs })
    }
    for (const id of members.keys()) this.#departed.delete(id)
    this.#members = members
  }

  #onKv(body: string | undefined): void {
    const pairs = body === undefined ? [] : (JSON.parse(body) as KvPairWire[])
    const { synopses: next, records, decommissioned } = kvEdges(pairs, this.#synopses ?? new Map(), {
      record: (id, raw, modifyIndex) => this.#records.parse(id, raw, modifyIndex),
      synopsis: (id, raw, modifyIndex) => this.#parseSynopsis(id, raw, modifyIndex),
      olderKept: (id, consul, held) => this.#log.info('older synopsis in Consul than already seen; keeping the newer one', { edgeId: id, consul, held }),
    })
    this.#synopses = next
    // Decommissioned (its marker, and no record written since): a departed edge leaves at once.
    // A record that merely vanished (Consul lost its data) of an edge that does not pass keeps it
    // in the view as departed, for the grace, as if it had just stopped passing.
    const { decommissioned: gone, vanished } = this.#records.replace({ records, decommissioned }, this.#members)
    for (const id of gone) if (this.#departed.delete(id)) this.#log.info('edge decommissioned; it leaves the view', { edgeId: id })
    const until = Date.now() + this.#departedGraceMs
    for (const m of vanished) {
      if (this.#departed.has(m.edgeId)) continue
      this.#departed.set(m.edgeId, { member: m, until })
      this.#log.warn('membership record of an edge that is down vanished from Consul KV without a decommission; kept for the departed grace', { edgeId: m.edgeId, graceMs: this.#departedGraceMs })
    }
  }

  #parseSynopsis(edgeId: string, value: string | null, modifyIndex: number): Synopsis | undefined {
    try {
      return synopsisOf(edgeId, value)
    } catch (e) {
      const key = `${edgeId}@${modifyIndex}`
      if (!this.#warned.has(key)) this.#log.warn('unusable synopsis in Consul KV; the edge will not be pruned', { edgeId, ...errorMeta(e) })
      this.#warned.add(key)
      return undefined
    }
  }

  #onError(watch: string, err: unknown, failures: number): void {
    if (this.#closed) return
    if (!this.#outage) {
      this.#outage = true
      this.#log.warn('Consul unreachable; serving the last good edge view (stale)', { watch, edges: this.#base.edges.length, ...errorMeta(err) })
      this.#update()
    } else {
      this.#log.debug('Consul still unreachable', { watch, failures, ...errorMeta(err) })
    }
  }

  /** The outage ends once both loops have answered again. */
  #recovered(): void {
    if (!this.#outage || !this.#health.healthy || !this.#kv.healthy) return
    this.#outage = false
    this.#log.info('Consul reachable again', { edges: this.#members?.size ?? 0 })
  }

  /** A new snapshot when membership, a synopsis or staleness changed; listeners get it. */
  #update(): void {
    if (this.#closed) return
    const synopses = this.#synopses ?? new Map<string, HeldSynopsis>()
    const passing = this.#members ?? new Map<string, Member>()
    // No view until both loops answered: health alone cannot tell which recorded edges are down
    // (a token without KV read answered 250 of 413 with no error); statements get 08006 meanwhile.
    const members = (this.#loaded ? [...passing.values(), ...this.#departedNow(), ...this.#records.absent(passing, (id) => this.#departed.has(id))] : []).sort((a, b) => (a.edgeId < b.edgeId ? -1 : a.edgeId > b.edgeId ? 1 : 0))
    const stale = this.#outage || !this.#loaded
    if (this.#loaded) for (const done of [...this.#readyWaiters]) done()
    // Every answer lands here, changed or not, at up to 10 a second per loop: an edge whose member
    // and synopsis are what its endpoint already says keeps that endpoint, and a view is made
    // only when some endpoint, the list or staleness changed (no per-answer copy of every edge).
    const before = this.#base.edges
    let changed = stale !== this.#base.stale || members.length !== before.length
    const edges = members.map((m, i): EdgeEndpoint => {
      const synopsis = synopses.get(m.edgeId)?.synopsis ?? null
      const kept = before[i]
      if (kept && kept.edgeId === m.edgeId && kept.synopsis === synopsis && (this.#madeFrom.get(kept) === m || sameMember(kept, m))) {
        this.#madeFrom.set(kept, m)
        return kept
      }
      changed = true
      const made = { ...m, synopsis, synopsisCurrentAt: 0 }
      this.#madeFrom.set(made, m)
      return made
    })
    if (!changed) return
    this.#base = { version: this.#base.version + 1, edges, stale, takenAt: Date.now() }
    const view = this.current()
    for (const l of this.#listeners) {
      try {
        l(view)
      } catch (e) {
        this.#log.error('edge view listener failed', errorMeta(e))
      }
    }
  }
}
