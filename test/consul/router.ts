/**
 * Request dispatch for the project's Consul test server: route table lookup, 404/405 answers,
 * percent-decoding of path parameters, the ACL gate and the "no cluster leader" fault.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AgentState } from './agent-state.js'
import type { WaitTuning } from './blocking.js'
import type { Catalog } from './catalog.js'
import { HttpError, readBody, type Reply } from './http-util.js'
import type { KvStore } from './kv-store.js'
import type { RaftLog } from './raft-log.js'

/** State every agent listener shares: one datacenter's servers. */
export interface Shared {
  log: RaftLog
  catalog: Catalog
  agents: AgentState
  kv: KvStore
  tuning: WaitTuning
  aclToken: string | undefined
}

export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  query: URLSearchParams
  /** The node of the agent that received the request: `/v1/agent/*` acts on it. */
  node: string
  shared: Shared
  /** The servers have no leader: server endpoints fail, `?stale` reads are still served. */
  noLeader: boolean
  /** Reads the body (default limit 1 MiB, 413 beyond). */
  body(limit?: number, tooLarge?: () => HttpError): Promise<Buffer>
}

export type Handler = (ctx: Ctx, param: string) => Reply | undefined | Promise<Reply | undefined>

type Acl = 'filter' | 'deny' | 'open'

export interface Route {
  methods: readonly string[]
  /** Exact path, or with `prefix` the part before a path parameter (kept percent-encoded until matched). */
  path: string
  prefix?: boolean
  /**
   * What an anonymous caller gets when ACLs are on (default deny): list reads come back empty,
   * as Consul filters them, everything else is refused.
   */
  acl: Acl | ((method: string, query: URLSearchParams) => Acl)
  /** 'agent' endpoints work without a cluster leader; 'server' ones need it. */
  scope: 'agent' | 'server'
  handle: Handler
}

const DEFAULT_BODY_LIMIT = 1 << 20

export async function dispatch(routes: readonly Route[], ctx: Omit<Ctx, 'body' | 'query'>): Promise<Reply | undefined> {
  const { req } = ctx
  const method = req.method ?? 'GET'
  const url = new URL(req.url ?? '/', 'http://consul.invalid')
  const rawPath = url.pathname
  const match = findRoute(routes, rawPath)
  if (!match) return { status: 404, text: `Invalid URL path: not a recognized HTTP API endpoint` }
  const { route, rawParam } = match
  if (!route.methods.includes(method)) {
    return { status: 405, text: `method ${method} not allowed`, headers: { Allow: route.methods.join(',') } }
  }
  let param: string
  try {
    param = decodeURIComponent(rawParam)
  } catch {
    return { status: 400, text: `Invalid URL path: malformed percent-encoding in ${JSON.stringify(rawPath)}` }
  }
  const full: Ctx = {
    ...ctx,
    query: url.searchParams,
    body: (limit = DEFAULT_BODY_LIMIT, tooLarge = () => new HttpError(413, 'Request body too large')) => readBody(req, limit, tooLarge),
  }
  const anonymous = aclGate(full, route)
  if (anonymous === 'refuse') return { status: 403, text: 'Permission denied' }
  if (anonymous === 'unknown') return { status: 403, text: 'ACL not found' }
  const stale = method === 'GET' && url.searchParams.has('stale')
  if (ctx.noLeader && route.scope === 'server' && !stale) return { status: 500, text: 'No cluster leader' }
  const reply = await route.handle(full, param)
  if (!reply) return reply
  if (reply.index !== undefined) {
    reply.headers = {
      ...reply.headers,
      'X-Consul-KnownLeader': String(!ctx.noLeader),
      'X-Consul-Default-ACL-Policy': ctx.shared.aclToken === undefined ? 'allow' : 'deny',
    }
  }
  return anonymous === 'filtered' ? filterReply(reply) : reply
}

function findRoute(routes: readonly Route[], path: string): { route: Route; rawParam: string } | undefined {
  const exact = routes.find((r) => !r.prefix && r.path === path)
  if (exact) return { route: exact, rawParam: '' }
  let best: Route | undefined
  for (const r of routes) if (r.prefix && path.startsWith(r.path) && (!best || r.path.length > best.path.length)) best = r
  return best ? { route: best, rawParam: path.slice(best.path.length) } : undefined
}

/** Which token came: none (anonymous), the configured one, or another (unknown to the ACL system). */
function aclGate(ctx: Ctx, route: Route): 'ok' | 'filtered' | 'refuse' | 'unknown' {
  const want = ctx.shared.aclToken
  const acl = typeof route.acl === 'function' ? route.acl(ctx.req.method ?? 'GET', ctx.query) : route.acl
  if (want === undefined || acl === 'open') return 'ok'
  const h = ctx.req.headers
  const bearer = /^Bearer\s+(.+)$/i.exec(h.authorization ?? '')?.[1]
  const header = h['x-consul-token']
  const token = (Array.isArray(header) ? header[0] : header) || bearer || ctx.query.get('token') || ''
  if (token === want) return 'ok'
  if (token !== '') return 'unknown'
  return acl === 'filter' ? 'filtered' : 'refuse'
}

/** An anonymous list read: everything is filtered out, and Consul says so in a header. */
function filterReply(reply: Reply): Reply {
  if ((reply.status ?? 200) !== 200 || reply.json === undefined) return reply
  const empty = Array.isArray(reply.json) ? [] : {}
  const hadAny = Array.isArray(reply.json) ? reply.json.length > 0 : Object.keys(reply.json as object).length > 0
  const headers = hadAny ? { ...reply.headers, 'X-Consul-Results-Filtered-By-ACLs': 'true' } : reply.headers
  // A KV list left empty is a 404, as one that was empty to begin with (Consul's KVSGetRecurse).
  if (reply.notFoundWhenEmpty) return { status: 404, index: reply.index, headers }
  return { ...reply, json: empty, headers }
}
