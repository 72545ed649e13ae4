/**
 * `/v1/kv/:key` of the project's Consul test server. The key arrives percent-decoded (the `consul`
 * client sends `a%2Fb` for `a/b`, and Go's server decodes it). `?recurse`, `?keys` and `?raw`
 * count by presence, whatever their value, as in Consul. Error texts follow
 * `agent/kvs_endpoint.go`, including its raw Go errors for unparsable numbers (HTTP 500).
 */
import { serveBlocking } from './blocking.js'
import { badRequest, HttpError, type Reply } from './http-util.js'
import { kvJson } from './kv-store.js'
import type { Ctx, Route } from './router.js'

/** `kv_max_value_size` default: 512 KiB. */
export const KV_MAX_VALUE = 512 * 1024

const blocking = (ctx: Ctx, render: () => Reply, peek?: () => number) => serveBlocking(ctx.query, ctx.res, ctx.shared.log, ctx.shared.tuning, render, peek)

/** A uint64 query parameter; Consul passes the strconv error straight through as a 500. */
function uintParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  if (!/^\d+$/.test(v) || BigInt(v) > 0xffff_ffff_ffff_ffffn) throw new HttpError(500, `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`)
  return Number(v)
}

/** Consul's `conflictingFlags`: at most one of `flags` may be present. */
function conflicting(q: URLSearchParams, ...flags: string[]): void {
  if (flags.filter((f) => q.has(f)).length > 1) {
    throw badRequest(`Conflicting flags: ${new URLSearchParams([...q].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))).toString()}`)
  }
}

const missingKey = () => badRequest('Missing key name')

function get(ctx: Ctx, key: string): Promise<Reply | undefined> {
  const { kv } = ctx.shared
  const q = ctx.query
  if (q.has('keys')) {
    const separator = q.get('separator') ?? ''
    return blocking(ctx, () => {
      const { index, keys } = kv.keys(key, separator)
      // No 404 for the root: an empty store lists as [].
      return keys.length === 0 && key !== '' ? { status: 404, index } : { index, json: keys, notFoundWhenEmpty: key !== '' }
    })
  }
  if (q.has('recurse')) {
    return blocking(ctx, () => {
      const { index, entries } = kv.list(key)
      return entries.length === 0 ? { status: 404, index } : { index, json: entries.map(kvJson), notFoundWhenEmpty: true }
    }, () => kv.prefixIndex(key))
  }
  if (key === '') throw missingKey()
  const raw = q.has('raw')
  return blocking(ctx, () => {
    const { index, entry } = kv.get(key)
    if (!entry) return { status: 404, index }
    if (raw) return { index, raw: entry.value, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } }
    return { index, json: [kvJson(entry)] }
  })
}

async function put(ctx: Ctx, key: string): Promise<Reply> {
  const q = ctx.query
  if (key === '') throw missingKey()
  conflicting(q, 'cas', 'acquire', 'release')
  const flags = uintParam(q, 'flags') ?? 0
  const cas = uintParam(q, 'cas')
  const value = await ctx.body(KV_MAX_VALUE, () => new HttpError(413, `Value exceeds ${KV_MAX_VALUE} byte limit`))
  const acquire = q.get('acquire')
  // No sessions exist in this model, so every session ID is invalid.
  if (acquire !== null) throw new HttpError(500, `Invalid session ${JSON.stringify(acquire)}`)
  if (q.has('release')) return { json: ctx.shared.kv.release() }
  return { json: ctx.shared.kv.put(key, value, { cas, flags }) }
}

function del(ctx: Ctx, key: string): Reply {
  const q = ctx.query
  const recurse = q.has('recurse')
  if (!recurse && key === '') throw missingKey()
  conflicting(q, 'recurse', 'cas')
  return { json: ctx.shared.kv.delete(key, { recurse, cas: uintParam(q, 'cas') }) }
}

export const kvRoutes: Route[] = [
  {
    methods: ['GET', 'PUT', 'DELETE'], path: '/v1/kv/', prefix: true, scope: 'server',
    // With enable_key_list_policy off (the default), list reads are filtered key by key; the rest is refused.
    acl: (method, q) => (method === 'GET' && (q.has('recurse') || q.has('keys')) ? 'filter' : 'deny'),
    handle: (ctx, key) => {
      if (ctx.req.method === 'PUT') return put(ctx, key)
      if (ctx.req.method === 'DELETE') return del(ctx, key)
      return get(ctx, key)
    },
  },
]
