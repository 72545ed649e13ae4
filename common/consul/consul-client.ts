/**
 * Our Consul client: a small typed interface over the npm `consul` 2.0.1 client, mended where
 * docs/consul.md §4.6 lists its bugs, plus plain HTTP for what it lacks. Shared by the edge
 * (registration, heartbeat, synopsis KV writes) and the gateway (blocking reads).
 *
 * Mended (§4.6): KV writes succeed only on a literal `true` (a CAS miss resolves `undefined`);
 * TTL checks are registered without the `timeout` its typings demand (§4.6.2); check updates,
 * which it has no helper for (§4.6.5), and blocking reads, which must be abortable (its `watch`
 * cannot abort the poll in flight), go through `request()`. `request()` uses `node:http(s)` with
 * an AbortSignal rather than global `fetch`: it shares the npm client's keep-alive agent, so TLS
 * (`ca`) is configured once and `close()` can destroy every socket; global `fetch` could do
 * neither without the `undici` package, which is not a dependency.
 */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import Consul from 'consul'

export interface ConsulClientOptions {
  /** `http://127.0.0.1:8500` or `https://…`; a bare `host:port` means http (CONSUL_HTTP_ADDR style). */
  readonly address: string
  /** Sent as `X-Consul-Token` (§3.1), never in the query string. */
  readonly token?: string
  /** Path of a PEM CA bundle for an https address (CONSUL_CACERT style). */
  readonly ca?: string
  /** Timeout of non-blocking requests, ms (default 10 s). */
  readonly requestTimeoutMs?: number
}

export type CheckStatus = 'passing' | 'warning' | 'critical'

export interface TtlCheckDefinition {
  readonly checkId: string
  readonly name: string
  readonly ttlMs: number
  readonly deregisterAfterMs: number
  readonly status: CheckStatus
  readonly notes?: string
}

export interface ServiceRegistration {
  readonly id: string
  readonly name: string
  /** Empty: Consul readers fall back to the node's address (§3.5). */
  readonly address: string
  readonly port: number
  readonly tags: readonly string[]
  readonly meta: Readonly<Record<string, string>>
  readonly check: TtlCheckDefinition
}

/** The fields of `GET /v1/agent/service/:id` (`api.AgentService`) that we compare. */
export interface AgentServiceJson {
  ID: string
  Service: string
  Tags: string[]
  Meta: Record<string, string>
  Address: string
  Port: number
}

export interface HttpResult {
  readonly status: number
  /** `X-Consul-Index`; NaN when the header is absent. */
  readonly index: number
  readonly body: string
  /** `X-Consul-Results-Filtered-By-ACLs: true`: the token could not read everything asked for. */
  readonly filtered: boolean
  /**
   * Date.now() when the answer's headers arrived. Consul evaluates a read before it sends them,
   * so what the answer says held then; a large body can take a while longer to arrive.
   */
  readonly answeredAt: number
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | undefined>>
  readonly body?: string
  readonly signal?: AbortSignal
  /** Overrides the client's request timeout (blocking reads need more than `wait`). */
  readonly timeoutMs?: number
}

/** A non-2xx answer from Consul; `body` is its plain-text message (§3.1). */
export class ConsulHttpError extends Error {
  constructor(readonly status: number, readonly body: string, what: string) {
    super(`${what}: Consul answered ${status}${body ? ` ${JSON.stringify(body.slice(0, 200))}` : ''}`)
    this.name = 'ConsulHttpError'
  }
}

export class ConsulMetaError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConsulMetaError'
  }
}

/**
 * A Go duration string for Consul's `TTL`, `DeregisterCriticalServiceAfter` and `wait`. Whole
 * seconds are written as seconds ("15s"), anything else in milliseconds ("1500ms").
 */
export function goDuration(ms: number): string {
  const n = Math.max(0, Math.round(ms))
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`
}

/**
 * Consul's `validateMetadata` (agent/structs/structs.go, §3.2): ≤64 pairs, keys of 1–128
 * characters from [A-Za-z0-9_-] not starting with `consul-`, values ≤512 bytes of UTF-8.
 * Checked here so a bad Meta fails with a clear message before anything is sent.
 */
export function validateServiceMeta(meta: Readonly<Record<string, string>>): void {
  const keys = Object.keys(meta)
  if (keys.length > 64) throw new ConsulMetaError(`service Meta has ${keys.length} keys; Consul allows at most 64`)
  for (const k of keys) {
    if (k.length === 0 || k.length > 128) throw new ConsulMetaError(`service Meta key ${JSON.stringify(k.slice(0, 40))} must be 1 to 128 characters`)
    if (!/^[A-Za-z0-9_-]+$/.test(k)) throw new ConsulMetaError(`service Meta key ${JSON.stringify(k)} may contain only letters, digits, '_' and '-'`)
    if (k.startsWith('consul-')) throw new ConsulMetaError(`service Meta key ${JSON.stringify(k)}: the prefix 'consul-' is reserved by Consul`)
    const bytes = Buffer.byteLength(meta[k]!, 'utf8')
    if (bytes > 512) throw new ConsulMetaError(`service Meta value of ${JSON.stringify(k)} is ${bytes} bytes of UTF-8; Consul allows at most 512`)
  }
}

/**
 * Whether a failed check update means the agent no longer knows the check, i.e. it restarted
 * without its data dir (§3.4, §3.10): 404 "Unknown check ID" now, 500 "does not have
 * associated TTL" on older versions. The remedy is to register again.
 */
export function isLostRegistration(err: unknown): boolean {
  if (!(err instanceof ConsulHttpError)) return false
  return err.status === 404 || (err.status === 500 && /does not have associated TTL/i.test(err.body))
}

/** The npm client's error for a non-2xx answer (papi `ResponseError`). */
interface PapiResponseError {
  response: { statusCode: number; body?: unknown }
}

const isPapiResponseError = (e: unknown): e is PapiResponseError =>
  typeof e === 'object' && e !== null && typeof (e as { response?: { statusCode?: unknown } }).response?.statusCode === 'number'

/** Typed shapes of the npm client calls whose typings are wrong or too narrow (§4.5, §4.6). */
type CancelCtx = EventEmitter & { canceled: boolean }
type RegisterCall = (opts: Record<string, unknown>) => Promise<unknown>
type KvSetCall = (opts: { key: string; value: string; ctx: CancelCtx }) => Promise<unknown>
type DeregisterCall = (opts: { id: string; ctx: CancelCtx }) => Promise<unknown>

export class ConsulClient {
  readonly baseUrl: URL
  readonly #consul: Consul
  readonly #agent: http.Agent
  readonly #token: string | undefined
  readonly #timeoutMs: number
  readonly #inflight = new Set<Promise<unknown>>()
  /** Cancels every npm-client call (papi's `ctx`) and every `request()` at close. */
  readonly #ctx: CancelCtx = Object.assign(new EventEmitter().setMaxListeners(0), { canceled: false })
  readonly #abort = new AbortController()
  #closed = false

  constructor(opts: ConsulClientOptions) {
    this.baseUrl = new URL(opts.address.includes('://') ? opts.address : `http://${opts.address}`)
    const secure = this.baseUrl.protocol === 'https:'
    this.#agent = secure ? new https.Agent({ keepAlive: true, ca: opts.ca ? readFileSync(opts.ca) : undefined }) : new http.Agent({ keepAlive: true })
    this.#token = opts.token || undefined
    this.#timeoutMs = opts.requestTimeoutMs ?? 10_000
    this.#consul = new Consul({
      host: this.baseUrl.hostname,
      port: Number(this.baseUrl.port || (secure ? 443 : 80)),
      secure,
      agent: this.#agent,
      // `timeout` is a supported default (the request timeout) that the typings omit (§4.6).
      defaults: { ...(this.#token ? { token: this.#token } : {}), timeout: this.#timeoutMs } as { token?: string },
    })
  }

  /** `PUT /v1/agent/service/register` with one TTL check (Meta validated first). */
  registerService(reg: ServiceRegistration): Promise<void> {
    validateServiceMeta(reg.meta)
    const c = reg.check
    const register = this.#consul.agent.service.register as unknown as RegisterCall
    const opts = {
      name: reg.name, id: reg.id, address: reg.address, port: reg.port, tags: [...reg.tags], meta: { ...reg.meta }, ctx: this.#ctx,
      check: {
        checkid: c.checkId, name: c.name, ttl: goDuration(c.ttlMs), status: c.status,
        deregistercriticalserviceafter: goDuration(c.deregisterAfterMs), ...(c.notes ? { notes: c.notes } : {}),
      },
    }
    return this.#npm('register service', () => register.call(this.#consul.agent.service, opts)).then(() => undefined)
  }

  /** `PUT /v1/agent/service/deregister/:id`; an unknown ID is a success (§3.3). */
  deregisterService(id: string): Promise<void> {
    const deregister = this.#consul.agent.service.deregister as unknown as DeregisterCall
    return this.#npm('deregister service', () => deregister.call(this.#consul.agent.service, { id, ctx: this.#ctx })).then(() => undefined)
  }

  /** `PUT /v1/agent/check/update/:id` with `{Status, Output}` (§3.4); rejects with ConsulHttpError. */
  async updateTtlCheck(checkId: string, status: CheckStatus, output: string): Promise<void> {
    const res = await this.request('PUT', `/v1/agent/check/update/${encodeURIComponent(checkId)}`, { body: JSON.stringify({ Status: status, Output: output }) })
    if (res.status !== 200) throw new ConsulHttpError(res.status, res.body, `update check ${checkId}`)
  }

  /** `GET /v1/agent/service/:id`; undefined when the local agent does not know it. */
  async agentService(id: string): Promise<AgentServiceJson | undefined> {
    const res = await this.request('GET', `/v1/agent/service/${encodeURIComponent(id)}`)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw new ConsulHttpError(res.status, res.body, `read service ${id}`)
    return JSON.parse(res.body) as AgentServiceJson
  }

  /** `PUT /v1/kv/:key`: true only on Consul's literal `true` (§4.6.1: `false` arrives as undefined). */
  async kvPut(key: string, value: string): Promise<boolean> {
    const set = this.#consul.kv.set as unknown as KvSetCall
    const result = await this.#npm('write KV', () => set.call(this.#consul.kv, { key, value, ctx: this.#ctx }))
    return result === true
  }

  /** `DELETE /v1/kv/:key`, or with `cas` only while its ModifyIndex is that: true only on Consul's literal `true` (§4.6.1). */
  async kvDelete(key: string, cas?: number): Promise<boolean> {
    const del = this.#consul.kv.del as unknown as (opts: { key: string; cas?: number; ctx: CancelCtx }) => Promise<unknown>
    const result = await this.#npm('delete KV', () => del.call(this.#consul.kv, { key, ...(cas !== undefined ? { cas } : {}), ctx: this.#ctx }))
    return result === true
  }

  /**
   * Plain HTTP on the client's agent and token. Non-2xx answers resolve (callers read
   * `status`); network errors, timeouts and aborts reject.
   */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult> {
    if (this.#closed) return Promise.reject(new Error('Consul client closed'))
    const url = new URL(path, this.baseUrl)
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.#abort.signal]) : this.#abort.signal
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs
    const headers: Record<string, string> = {}
    if (this.#token) headers['X-Consul-Token'] = this.#token
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
    const transport = url.protocol === 'https:' ? https : http
    const p = new Promise<HttpResult>((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: this.#agent, signal }, (res) => {
        const answeredAt = Date.now()
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          clearTimeout(timer)
          const h = res.headers['x-consul-index']
          resolve({
            status: res.statusCode ?? 0, index: typeof h === 'string' && h !== '' ? Number(h) : NaN, body: Buffer.concat(chunks).toString('utf8'),
            filtered: res.headers['x-consul-results-filtered-by-acls'] === 'true',
            answeredAt,
          })
        })
      })
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`Consul request timed out after ${timeoutMs} ms: ${method} ${url.pathname}`), { code: 'ETIMEDOUT' })), timeoutMs)
      req.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      req.end(opts.body)
    })
    return this.#track(p)
  }

  /**
   * Waits for calls in flight to settle (up to `graceMs`), cancels what is left, then destroys
   * the keep-alive agent so no socket outlives the client.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inflight.size > 0) {
      const grace = new AbortController()
      await Promise.race([Promise.allSettled([...this.#inflight]), sleep(graceMs, undefined, { signal: grace.signal }).catch(() => undefined)])
      grace.abort()
    }
    this.#ctx.canceled = true
    this.#ctx.emit('cancel')
    this.#abort.abort(new Error('Consul client closed'))
    await Promise.allSettled([...this.#inflight])
    this.#consul.destroy()
  }

  /** An npm-client call: tracked, with its papi ResponseError turned into ConsulHttpError. */
  #npm<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('Consul client closed'))
    const p = call().catch((e: unknown) => {
      if (!isPapiResponseError(e)) throw e
      const body = e.response.body
      throw new ConsulHttpError(e.response.statusCode, typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '', what)
    })
    return this.#track(p)
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p)
    const done = () => this.#inflight.delete(p)
    p.then(done, done)
    return p
  }
}
