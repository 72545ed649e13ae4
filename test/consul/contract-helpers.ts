/**
 * Helpers for the Consul contract suite: where the Consul under test is (the project's test
 * server, or a real agent from `CONSUL_HTTP_ADDR`), typed access to `consul` client calls whose
 * typings are too narrow (`ctx` for response headers, TTL checks without `timeout`), plain HTTP
 * for what the client lacks, and polling.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import Consul from 'consul'

/** Set to run the suite against a real agent, e.g. `http://127.0.0.1:8500`. */
export const REAL_CONSUL = process.env['CONSUL_HTTP_ADDR']
export const REAL_TOKEN = process.env['CONSUL_HTTP_TOKEN']

export interface Target {
  url: URL
  token?: string
}

export function realTarget(addr: string): Target {
  return { url: new URL(addr.includes('://') ? addr : `http://${addr}`), token: REAL_TOKEN || undefined }
}

export function client(t: Target, token = t.token): Consul {
  return new Consul({ host: t.url.hostname, port: Number(t.url.port || 8500), secure: t.url.protocol === 'https:', defaults: token ? { token } : {} })
}

export type Opts = Record<string, unknown>
/** The response the client hands back with `ctx.includeResponse`: papi puts the decoded body on it. */
export type ClientResponse = IncomingMessage & { body?: unknown }
type Method = (opts: Opts) => Promise<unknown>

/**
 * Calls a client method with options its typings do not allow (`ctx`, `index`, check fields
 * without `timeout`, see docs/consul.md §4.6).
 */
export const call = (self: object, method: unknown, opts: Opts): Promise<unknown> => (method as Method).call(self, opts)

/** Calls with `includeResponse`, to see status and headers; a KV 404 resolves without a body. */
export async function withResponse<T>(self: object, method: unknown, opts: Opts): Promise<{ res: ClientResponse; body: T | undefined; index: number }> {
  const ctx = Object.assign(new EventEmitter(), { includeResponse: true })
  const [res, body] = (await call(self, method, { ...opts, ctx })) as [ClientResponse, T?]
  return { res, body, index: headerIndex(res.headers['x-consul-index']) }
}

export const headerIndex = (h: string | string[] | null | undefined) => (typeof h === 'string' ? Number(h) : NaN)

/** The HTTP error a rejected client call carries (papi `ResponseError`). */
export async function failure(p: Promise<unknown>): Promise<{ status: number; body: string; message: string }> {
  const err = await p.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e as { message: string; response?: ClientResponse },
  )
  const body = err.response?.body
  return { status: err.response?.statusCode ?? 0, body: typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString() : '', message: err.message }
}

/** Plain HTTP for endpoints or parameters the client has no method for. */
export async function http(
  t: Target,
  method: string,
  path: string,
  opts: { body?: string | Buffer; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers }
  const token = opts.token ?? t.token
  if (token) headers['X-Consul-Token'] = token
  const res = await fetch(new URL(path, t.url), { method, headers, body: opts.body })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

/** Polls until `probe` returns something truthy: real agents sync to the catalog asynchronously. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 4000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v) return v
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

/** Resolves with the first event of `name` on `emitter` that satisfies `accept`. */
export function nextEvent<A extends unknown[]>(emitter: EventEmitter, name: string, accept: (...args: A) => boolean, timeoutMs = 5000): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, onEvent)
      reject(new Error(`no matching "${name}" event within ${timeoutMs} ms`))
    }, timeoutMs)
    const onEvent = (...args: unknown[]) => {
      if (!accept(...(args as A))) return
      clearTimeout(timer)
      emitter.off(name, onEvent)
      resolve(args as A)
    }
    emitter.on(name, onEvent)
  })
}
