/**
 * The edge in Consul (docs/consul.md §6): one service instance `edge-<id>` with a TTL check the
 * agent heartbeats, and the synopsis in KV at `fedgres/edges/<id>/synopsis`.
 *
 * Liveness is the check: it starts critical and is passed right after registering, so gateways
 * (which read `?passing`) see the edge only once it serves. A heartbeat every TTL/3 keeps it
 * passing. A Consul agent that restarted without its data dir answers the heartbeat with a 404
 * (or, on old versions, a 500), and the edge registers again; a reconcile every few minutes
 * also catches a registration that vanished or drifted without the heartbeat noticing.
 *
 * Once it serves, the edge also writes its membership record to KV (schema/membership.ts): unlike
 * the service, it outlives the agent, so gateways know the edge holds rows while it is down.
 *
 * The synopsis lives in KV, not in Meta: it is larger than Meta's 512-byte values and changes
 * more often, and a Meta change would wake every health watcher (§3.11).
 */
import { hostname } from 'node:os'
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import {
  ConsulClient, isLostRegistration, validateServiceMeta, type ConsulClientOptions, type ServiceRegistration,
} from '../../common/consul/consul-client.js'
import { decommissionedKey, memberKey, parseMembership, type EdgeMembership } from '../../schema/membership.js'
import type { Synopsis } from '../../schema/synopsis.js'
import type { SynopsisPublisher } from './publisher.js'
import { SynopsisKvWriter } from './synopsis-kv-writer.js'

export interface ConsulRegistrationOptions {
  readonly edgeId: string
  /** Consul service name shared by all edges (default `fedgres-edge`). */
  readonly serviceName?: string
  /** Host gateways connect to; empty lets Consul readers use the node's address (§3.5). */
  readonly address: string
  /** Port of the edge's query endpoint. */
  readonly port: number
  readonly shard: string
  readonly cluster: string
  readonly schemaVersion: number
  readonly nodeTags: readonly string[]
  /** The query endpoint requires TLS. */
  readonly tls?: boolean
  /** TTL of the health check; the heartbeat runs every third of it. */
  readonly ttlMs: number
  /** `DeregisterCriticalServiceAfter`: Consul drops an edge critical this long (≥ 1 min in real Consul). */
  readonly deregisterAfterMs: number
  /** How often the registration is compared with the agent's copy (default 3 min). */
  readonly reconcileMs?: number
  readonly consul: ConsulClientOptions
  readonly log: Logger
}

/** Stable on purpose: an Output-only change costs a deferred catalog sync and carries no data (§3.4). */
const HEARTBEAT_OUTPUT = 'fedgres edge serving'
const DEFAULT_RECONCILE_MS = 180_000

export class ConsulRegistration implements SynopsisPublisher {
  readonly edgeId: string
  readonly serviceId: string
  readonly checkId: string
  readonly heartbeatMs: number
  readonly #registration: ServiceRegistration
  readonly #client: ConsulClient
  readonly #log: Logger
  readonly #reconcileMs: number
  #registered = false
  /** The membership record is in KV as this process last registered it. */
  #enrolled = false
  readonly #membership: Omit<EdgeMembership, 'enrolledAt'>
  #lastReconcile = 0
  #failing = false
  #started = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #beat: Promise<void> | undefined
  readonly #synopses: SynopsisKvWriter

  /** Throws ConsulMetaError when the Meta would break Consul's rules, before any request. */
  constructor(opts: ConsulRegistrationOptions) {
    this.edgeId = opts.edgeId
    this.serviceId = `edge-${opts.edgeId}`
    this.checkId = `${this.serviceId}:ttl`
    this.heartbeatMs = Math.max(100, Math.floor(opts.ttlMs / 3))
    this.#reconcileMs = Math.max(this.heartbeatMs, opts.reconcileMs ?? DEFAULT_RECONCILE_MS)
    this.#log = opts.log.child({ component: 'consul-registration' })
    const meta: Record<string, string> = {
      edge_id: opts.edgeId,
      shard: opts.shard,
      cluster: opts.cluster,
      schema_version: String(opts.schemaVersion),
      tags: opts.nodeTags.join(','),
      address: `${opts.address || hostname()}:${opts.port}`,
      tls: String(opts.tls ?? false),
    }
    validateServiceMeta(meta)
    this.#membership = {
      edgeId: opts.edgeId, shard: opts.shard, cluster: opts.cluster, address: meta.address!, schemaVersion: opts.schemaVersion,
      tags: [...opts.nodeTags], tls: opts.tls ?? false, service: opts.serviceName ?? 'fedgres-edge',
    }
    this.#registration = {
      id: this.serviceId,
      name: opts.serviceName ?? 'fedgres-edge',
      address: opts.address,
      port: opts.port,
      // Coarse, stable labels only (§3.11): for filtering, never for data.
      tags: ['fedgres', `schema-v${opts.schemaVersion}`],
      meta,
      check: {
        checkId: this.checkId,
        name: 'fedgres edge heartbeat',
        ttlMs: opts.ttlMs,
        deregisterAfterMs: opts.deregisterAfterMs,
        // Not in `?passing` until the pass that follows: the edge appears only when ready.
        status: 'critical',
        notes: 'TTL check passed by the fedgres edge agent via /v1/agent/check/update',
      },
    }
    this.#client = new ConsulClient(opts.consul)
    this.#synopses = new SynopsisKvWriter(this.#client, opts.edgeId, () => this.#closed)
  }

  /** Whether the last registration attempt succeeded and no heartbeat has since found it lost. */
  get registered(): boolean {
    return this.#registered
  }

  /** Whether the membership record is in KV (written after each registration). */
  get enrolled(): boolean {
    return this.#enrolled
  }

  /**
   * Registers, passes the check, and starts the heartbeat. Resolves after the first attempt
   * even when Consul is unreachable: the edge must run without it, and the heartbeat keeps
   * trying to register (watch `registered` or the logs).
   */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return
    this.#started = true
    await this.#runBeat()
  }

  /**
   * Writes the synopsis to KV; resolves once Consul answered `true`, rejects otherwise (the
   * agent then keeps the rows that widen it in its spool and retries). Concurrent calls are
   * coalesced: only the newest waiting synopsis is written, and a synopsis older than one
   * already written is never written over it (it resolves: the newer one covers it).
   */
  publish(synopsis: Synopsis): Promise<void> {
    return this.#synopses.publish(synopsis)
  }

  /**
   * Stops the heartbeat, lets writes in flight finish, deregisters the service, and closes
   * every socket. The KV synopsis and membership stay on purpose: the edge keeps its rows on disk,
   * so gateways must go on knowing them (its shard is unavailable while it is stopped, and a
   * statement that needs it fails rather than missing them), and the synopsis remains true of
   * those rows. Neither key is tied to a session, so a crashed edge's stay too. An edge taken
   * away for good is removed with `fedgres decommission`.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#beat
    await this.#synopses.writing
    if (this.#started) {
      try {
        await this.#client.deregisterService(this.serviceId)
        this.#log.info('deregistered from Consul', { serviceId: this.serviceId })
      } catch (e) {
        // The TTL then expires and Consul reaps the service after DeregisterCriticalServiceAfter.
        this.#log.warn('could not deregister from Consul; it will expire', { serviceId: this.serviceId, ...errorMeta(e) })
      }
    }
    await this.#client.close()
  }

  async #runBeat(): Promise<void> {
    this.#beat = this.#heartbeat().catch((e: unknown) => {
      this.#log.error('heartbeat failed unexpectedly', errorMeta(e))
    })
    await this.#beat
    this.#beat = undefined
    if (this.#closed) return
    this.#timer = setTimeout(() => void this.#runBeat(), this.heartbeatMs)
    // The agent's servers keep the process alive; a heartbeat alone must not.
    this.#timer.unref()
  }

  async #heartbeat(): Promise<void> {
    if (!this.#registered) return this.#register('registered in Consul')
    try {
      await this.#client.updateTtlCheck(this.checkId, 'passing', HEARTBEAT_OUTPUT)
      this.#recovered()
    } catch (e) {
      if (!isLostRegistration(e)) return this.#failed('heartbeat failed', e)
      this.#log.warn('the Consul agent no longer knows this edge (restarted without its data?); registering again', { checkId: this.checkId, ...errorMeta(e) })
      this.#registered = false
      return this.#register('registered in Consul again')
    }
    if (!this.#enrolled) await this.#enroll()
    if (Date.now() - this.#lastReconcile >= this.#reconcileMs) await this.#reconcile()
  }

  /**
   * Writes the membership record; a failure is retried with the next heartbeat. Written after the
   * edge first passes, so a new edge is never known before it serves, and again after each
   * registration, so the record follows a changed shard or address.
   */
  async #enroll(): Promise<void> {
    try {
      const record: EdgeMembership = { ...this.#membership, enrolledAt: new Date().toISOString() }
      if (!(await this.#client.kvPut(memberKey(this.edgeId), JSON.stringify(record)))) throw new Error(`Consul did not store ${memberKey(this.edgeId)}`)
      // Back after a decommission: the marker would have gateways drop it once it stops again.
      await this.#client.kvDelete(decommissionedKey(this.edgeId))
      if (!this.#enrolled) this.#log.info('membership recorded in Consul KV', { key: memberKey(this.edgeId), shard: record.shard })
      this.#enrolled = true
    } catch (e) {
      this.#failed('could not record membership in KV; retrying with the heartbeat', e)
    }
  }

  /** Register, then pass at once (§6.1). A later register keeps the check's status (§3.2). */
  async #register(what: string): Promise<void> {
    try {
      await this.#client.registerService(this.#registration)
      await this.#client.updateTtlCheck(this.checkId, 'passing', HEARTBEAT_OUTPUT)
      this.#registered = true
      this.#lastReconcile = Date.now()
      this.#recovered()
      this.#log.info(what, { serviceId: this.serviceId, service: this.#registration.name, ttl: this.#registration.check.ttlMs, heartbeatMs: this.heartbeatMs })
      this.#enrolled = false
      await this.#enroll()
    } catch (e) {
      this.#failed('registration failed; retrying with the heartbeat', e)
    }
  }

  /**
   * `GET /v1/agent/service/:id`: register again when it is missing or its Meta or port drifted;
   * and record the membership again when its key is gone (Consul lost it, or a decommission
   * raced with this edge's start) or names another shard or address.
   */
  async #reconcile(): Promise<void> {
    this.#lastReconcile = Date.now()
    try {
      const svc = await this.#client.agentService(this.serviceId)
      const want = this.#registration
      const same = svc !== undefined && svc.Port === want.port && sameRecord(svc.Meta ?? {}, want.meta)
      if (same) {
        if (!(await this.#recordIntact())) {
          this.#log.warn('membership record missing or changed in Consul KV; recording it again', { key: memberKey(this.edgeId) })
          this.#enrolled = false
          await this.#enroll()
        }
        return
      }
      this.#log.warn(svc ? 'registration in Consul differs; registering again' : 'registration missing from Consul; registering again', { serviceId: this.serviceId })
      this.#registered = false
      await this.#register('registered in Consul again')
    } catch (e) {
      this.#failed('reconcile failed', e)
    }
  }

  async #recordIntact(): Promise<boolean> {
    const res = await this.#client.request('GET', `/v1/kv/${memberKey(this.edgeId)}`, { query: { raw: '' } })
    if (res.status === 404) return false
    if (res.status !== 200) throw new Error(`Consul answered ${res.status} to reading ${memberKey(this.edgeId)}`)
    const m = parseMembership(this.edgeId, res.body)
    return m !== undefined && m.shard === this.#membership.shard && m.address === this.#membership.address
  }

  /** One warning per outage; the rest at debug level. */
  #failed(what: string, e: unknown): void {
    if (this.#closed) return
    if (!this.#failing) this.#log.warn(`Consul: ${what}`, { serviceId: this.serviceId, ...errorMeta(e) })
    else this.#log.debug(`Consul: ${what}`, { serviceId: this.serviceId, ...errorMeta(e) })
    this.#failing = true
  }

  #recovered(): void {
    if (this.#failing) this.#log.info('Consul reachable again', { serviceId: this.serviceId })
    this.#failing = false
  }
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}
