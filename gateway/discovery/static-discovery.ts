/**
 * Discovery from a fixed list of edges (the config's `discovery.kind = 'static'`): for the demo
 * and single-machine setups, with no Consul. Membership never changes; liveness and synopses
 * come from polling each edge over the PostgreSQL wire, where the edge serves its published
 * synopsis as the one-row view `fedgres.synopsis` (column `synopsis jsonb`, NULL before the
 * first publish).
 *
 * A synopsis is current as of the last successful poll (the time the query was sent). The
 * planner prunes with it for SYNOPSIS_MAX_AGE_MS (1.4 s), less than the edge's `publish_grace`
 * (1.5 s) and more than the default poll (1 s), so pruning goes on between polls. An unreachable
 * edge turns critical and keeps its last synopsis, whose time then stops advancing.
 */
import { readFileSync } from 'node:fs'
import pg from 'pg'
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import type { Synopsis } from '../../schema/synopsis.js'
import type { Discovery, EdgeEndpoint, EdgeStatus, EdgeView } from './edge-view.js'

export interface StaticEdge {
  readonly edge_id: string
  /** host:port of the edge's query endpoint. */
  readonly address: string
  /** Default: the edge id (every edge its own shard). */
  readonly shard?: string
  readonly cluster?: string
  readonly tags?: readonly string[]
  readonly tls?: boolean
  /** Database name on the endpoint (default `fedgres`). */
  readonly database?: string
}

export interface StaticDiscoveryOptions {
  readonly edges: readonly StaticEdge[]
  /** Period of the synopsis poll per edge, ms (config `synopsis_poll`, default 1 s). */
  readonly pollMs: number
  /** The gateway's login on the edges (config `edge_credentials`). */
  readonly credentials?: { readonly user: string; readonly password: string; readonly ca?: string }
  readonly log: Logger
}

const SYNOPSIS_QUERY = 'SELECT synopsis::text AS s FROM fedgres.synopsis'

interface EdgeState {
  readonly base: Omit<EdgeEndpoint, 'schemaVersion' | 'status' | 'synopsis' | 'synopsisCurrentAt'>
  status: EdgeStatus
  synopsis: Synopsis | null
  /** The synopsis text last read, to keep the same object while it does not change. */
  text: string | null
  currentAt: number
  polled: boolean
  failing: boolean
  client: pg.Client | undefined
  timer: NodeJS.Timeout | undefined
  poll: Promise<void> | undefined
}

export class StaticDiscovery implements Discovery {
  readonly #opts: StaticDiscoveryOptions
  /** The CA edge certificates must chain to (edge_credentials.ca), read once. */
  readonly #ca: string | undefined
  readonly #log: Logger
  readonly #edges: EdgeState[]
  readonly #listeners = new Set<(view: EdgeView) => void>()
  readonly #readyWaiters = new Set<() => void>()
  readonly #timeoutMs: number
  #version = 1
  #signature = ''
  #closed = false

  constructor(opts: StaticDiscoveryOptions) {
    this.#opts = opts
    this.#ca = opts.credentials?.ca ? readFileSync(opts.credentials.ca, 'utf8') : undefined
    this.#log = opts.log.child({ component: 'static-discovery' })
    // A poll must end well before it would pile up on the next; a few periods, within 2–10 s.
    this.#timeoutMs = Math.max(2000, Math.min(10_000, opts.pollMs * 5))
    const seen = new Set<string>()
    this.#edges = opts.edges.map((e) => {
      if (seen.has(e.edge_id)) throw new Error(`static discovery: edge ${e.edge_id} is listed twice`)
      seen.add(e.edge_id)
      const colon = e.address.lastIndexOf(':')
      const port = Number(e.address.slice(colon + 1))
      if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`static discovery: edge ${e.edge_id} address ${JSON.stringify(e.address)} is not host:port`)
      return {
        base: {
          edgeId: e.edge_id, host: e.address.slice(0, colon), port, shard: e.shard ?? e.edge_id, cluster: e.cluster ?? null,
          tags: [...(e.tags ?? [])], tls: e.tls ?? false, database: e.database,
        },
        status: 'unknown', synopsis: null, text: null, currentAt: 0, polled: false, failing: false, client: undefined, timer: undefined, poll: undefined,
      }
    })
    this.#signature = this.#currentSignature()
    for (const e of this.#edges) this.#runPoll(e)
  }

  current(): EdgeView {
    // The static list does not say which schema an edge runs; its synopsis does. Every
    // statement plans on this list, so it is built once per poll, not once per statement.
    this.#endpoints ??= this.#edges.map((e): EdgeEndpoint => ({
      ...e.base, schemaVersion: e.synopsis?.schemaVersion ?? 0, status: e.status, synopsis: e.synopsis, synopsisCurrentAt: e.currentAt,
    }))
    return { version: this.#version, edges: this.#endpoints, stale: false, takenAt: Date.now() }
  }

  /** The endpoints as of the last poll (undefined: rebuild). */
  #endpoints: readonly EdgeEndpoint[] | undefined

  /** Resolves once every edge has been polled once (reached or not), or after `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<EdgeView> {
    if (!this.#allPolled && !this.#closed) {
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

  /** Stops polling, waits for polls in flight, and closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const e of this.#edges) clearTimeout(e.timer)
    // Ending the connections first cuts short polls that wait on a slow or dead edge.
    await Promise.all(this.#edges.map((e) => this.#disconnect(e)))
    await Promise.all(this.#edges.map((e) => e.poll))
    await Promise.all(this.#edges.map((e) => this.#disconnect(e)))
    for (const done of [...this.#readyWaiters]) done()
    this.#listeners.clear()
  }

  get #allPolled(): boolean {
    return this.#edges.every((e) => e.polled)
  }

  #runPoll(e: EdgeState): void {
    e.poll = this.#poll(e).finally(() => {
      e.poll = undefined
      if (this.#closed) return
      e.timer = setTimeout(() => this.#runPoll(e), this.#opts.pollMs)
      // Open connections keep a gateway alive, not the poll timer.
      e.timer.unref()
    })
  }

  async #poll(e: EdgeState): Promise<void> {
    const sentAt = Date.now()
    let connected = false
    try {
      const client = e.client ?? (await this.#connect(e))
      connected = true
      const res = await client.query<{ s: string | null }>(SYNOPSIS_QUERY)
      const text = res.rows[0]?.s ?? null
      if (text !== e.text) {
        e.synopsis = this.#parse(e, text)
        e.text = text
      }
      e.status = 'passing'
      e.currentAt = sentAt
      if (e.failing) this.#log.info('edge reachable again', { edgeId: e.base.edgeId })
      e.failing = false
    } catch (err) {
      if (this.#closed) return
      // A poll that times out on a connection the edge accepted and authenticated means a busy
      // edge (a long statement holds its store: the synopsis is read there), not a dead one: it
      // stays usable (warning), with its last synopsis, for as long as it keeps accepting. Made
      // critical after three such polls, it failed every query that needed it while one heavy
      // statement ran ("no healthy edge"), though it would have answered them. A connection it
      // refuses, resets or never completes is a dead edge at once.
      const busy = connected && /timeout/i.test((err as Error).message)
      e.status = busy ? 'warning' : 'critical'
      this.#endpoints = undefined
      const what = busy ? 'edge busy (its synopsis poll timed out); still asked, with its last synopsis' : 'edge unreachable; keeping its last synopsis'
      if (!e.failing) this.#log.warn(what, { edgeId: e.base.edgeId, address: `${e.base.host}:${e.base.port}`, ...errorMeta(err) })
      e.failing = true
      await this.#disconnect(e)
    } finally {
      e.polled = true
    }
    this.#changed()
  }

  async #connect(e: EdgeState): Promise<pg.Client> {
    const creds = this.#opts.credentials
    const client = new pg.Client({
      host: e.base.host,
      port: e.base.port,
      user: creds?.user ?? 'fedgres_gateway',
      password: creds?.password,
      database: e.base.database ?? 'fedgres',
      // With edge_credentials.ca, sslmode=verify-full; without, sslmode=require (encrypted, not verified).
      ssl: e.base.tls ? (this.#ca ? { ca: this.#ca, rejectUnauthorized: true } : { rejectUnauthorized: false }) : false,
      connectionTimeoutMillis: this.#timeoutMs,
      query_timeout: this.#timeoutMs,
      application_name: 'fedgres-gateway-discovery',
    })
    // An idle connection that breaks emits 'error'; without a listener it would crash the gateway.
    client.on('error', (err) => {
      this.#log.debug('edge connection failed', { edgeId: e.base.edgeId, ...errorMeta(err) })
      if (e.client === client) e.client = undefined
      client.end().catch(() => undefined)
    })
    // Set before connecting, so that close() can end a connection attempt that hangs.
    e.client = client
    try {
      await client.connect()
    } catch (err) {
      if (e.client === client) e.client = undefined
      await client.end().catch(() => undefined)
      throw err
    }
    return client
  }

  async #disconnect(e: EdgeState): Promise<void> {
    const c = e.client
    e.client = undefined
    await c?.end().catch(() => undefined)
  }

  #parse(e: EdgeState, text: string | null): Synopsis | null {
    if (text === null) return null
    try {
      const s = JSON.parse(text) as Partial<Synopsis> | null
      if (s && s.edgeId === e.base.edgeId && typeof s.version === 'number' && s.tables?.alerts && s.tables.logs) return s as Synopsis
      throw new Error(`not a synopsis of edge ${e.base.edgeId}`)
    } catch (err) {
      // No synopsis means the edge is never pruned, which is always correct.
      this.#log.warn('unusable synopsis from edge; it will not be pruned', { edgeId: e.base.edgeId, ...errorMeta(err) })
      return null
    }
  }

  #currentSignature(): string {
    return JSON.stringify(this.#edges.map((e) => [e.status, e.text]))
  }

  #changed(): void {
    this.#endpoints = undefined
    if (this.#closed) return
    if (this.#allPolled) for (const done of [...this.#readyWaiters]) done()
    const signature = this.#currentSignature()
    if (signature === this.#signature) return
    this.#signature = signature
    this.#version++
    const view = this.current()
    for (const l of this.#listeners) {
      try {
        l(view)
      } catch (err) {
        this.#log.error('edge view listener failed', errorMeta(err))
      }
    }
  }
}
