/**
 * `/v1/agent/*` endpoints of the project's Consul test server: node-local registration of
 * services and checks, TTL updates and maintenance mode, on the node of the agent that got the
 * request. Error texts are Consul's (agent HTTP endpoint).
 */
import { createHash } from 'node:crypto'
import type { HealthStatus } from './api-types.js'
import { effectiveWait, holdUntil } from './blocking.js'
import { SERF_CHECK } from './catalog.js'
import { filterFromQuery } from './filter.js'
import { badRequest, HttpError, isObject, parseJson, waitParam, type Reply } from './http-util.js'
import { field, parseCheckRegistration, parseServiceDef } from './register-body.js'
import { agentServiceJson, checkJson } from './render.js'
import type { Ctx, Route } from './router.js'

const unknownCheck = (id: string) =>
  new HttpError(404, `Unknown check ID ${JSON.stringify(id)}. Ensure that the check ID is passed, not the check name.`)

const ok: Reply = {}
const statuses: readonly string[] = ['passing', 'warning', 'critical']

/** `?replace-existing-checks` as a flag: present means yes unless it says false. */
const flag = (q: URLSearchParams, name: string) => q.has(name) && !['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(q.get(name) ?? '')

function ttlUpdate(ctx: Ctx, checkId: string, status: HealthStatus, output: string): Reply {
  const result = ctx.shared.agents.updateTtl(ctx.node, checkId, status, output)
  if (result === 'unknown') throw unknownCheck(checkId)
  if (result === 'not-ttl') throw new HttpError(500, `CheckID ${JSON.stringify(checkId)} does not have associated TTL`)
  return ok
}

function agentService(ctx: Ctx, id: string): Reply {
  const svc = ctx.shared.catalog.service(ctx.node, id)
  if (!svc || svc.internal) return { status: 404, text: `unknown service ID: ${id}` }
  const body = agentServiceJson(svc, ctx.shared.catalog.datacenter)
  // Consul hashes the service with hashstructure; any stable digest serves the same purpose.
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16)
  return { json: { ...body, ContentHash: hash }, headers: { 'X-Consul-ContentHash': hash } }
}

export const agentRoutes: Route[] = [
  {
    methods: ['PUT'], path: '/v1/agent/service/register', acl: 'deny', scope: 'agent',
    handle: async (ctx) => {
      const def = parseServiceDef(parseJson(await ctx.body()))
      ctx.shared.agents.registerService(ctx.node, def, flag(ctx.query, 'replace-existing-checks'))
      return ok
    },
  },
  {
    methods: ['PUT'], path: '/v1/agent/service/deregister/', prefix: true, acl: 'deny', scope: 'agent',
    handle: (ctx, id) => {
      // An unknown ID is not an error: the agent logs a warning and answers 200.
      ctx.shared.agents.deregisterService(ctx.node, id)
      return ok
    },
  },
  {
    methods: ['PUT'], path: '/v1/agent/service/maintenance/', prefix: true, acl: 'deny', scope: 'agent',
    handle: (ctx, id) => {
      const enable = ctx.query.get('enable')
      if (enable === null || enable === '') throw badRequest('Missing value for enable')
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False', 'T', 'F'].includes(enable)) {
        throw badRequest(`Invalid value for enable: ${JSON.stringify(enable)}`)
      }
      const on = ['true', '1', 't', 'TRUE', 'True', 'T'].includes(enable)
      if (!ctx.shared.agents.setMaintenance(ctx.node, id, on, ctx.query.get('reason') ?? '')) {
        throw new HttpError(404, `No service registered with ID ${JSON.stringify(id)}`)
      }
      return ok
    },
  },
  {
    methods: ['GET'], path: '/v1/agent/services', acl: 'filter', scope: 'agent',
    handle: (ctx) => {
      const keep = filterFromQuery(ctx.query)
      const dc = ctx.shared.catalog.datacenter
      const entries = ctx.shared.catalog.agentServices(ctx.node).map((s) => [s.id, agentServiceJson(s, dc)] as const)
      return { json: Object.fromEntries(entries.filter(([, s]) => keep(s))) }
    },
  },
  {
    methods: ['GET'], path: '/v1/agent/service/', prefix: true, acl: 'deny', scope: 'agent',
    handle: (ctx, id) => {
      const hash = ctx.query.get('hash')
      if (!hash) return agentService(ctx, id)
      const wait = effectiveWait(waitParam(ctx.query), ctx.shared.tuning)
      return holdUntil(ctx.res, ctx.shared.log, wait, () => agentService(ctx, id), (r) => r.headers?.['X-Consul-ContentHash'] !== hash)
    },
  },
  {
    methods: ['GET'], path: '/v1/agent/checks', acl: 'filter', scope: 'agent',
    handle: (ctx) => {
      const keep = filterFromQuery(ctx.query)
      const { catalog } = ctx.shared
      // serfHealth is a server-side (gossip) check, not one the agent owns.
      const checks = catalog.checksOf(ctx.node).filter((c) => c.id !== SERF_CHECK).map((c) => checkJson(c, catalog, true))
      return { json: Object.fromEntries(checks.filter(keep).map((c) => [c.CheckID, c])) }
    },
  },
  {
    methods: ['PUT'], path: '/v1/agent/check/register', acl: 'deny', scope: 'agent',
    handle: async (ctx) => {
      const def = parseCheckRegistration(parseJson(await ctx.body()))
      if (!ctx.shared.agents.registerCheck(ctx.node, def)) {
        throw new HttpError(500, `ServiceID ${JSON.stringify(def.serviceId)} does not exist`)
      }
      return ok
    },
  },
  {
    methods: ['PUT'], path: '/v1/agent/check/deregister/', prefix: true, acl: 'deny', scope: 'agent',
    handle: (ctx, id) => {
      if (!ctx.shared.catalog.check(ctx.node, id) || id === SERF_CHECK) throw unknownCheck(id)
      ctx.shared.agents.deregisterCheck(ctx.node, id)
      return ok
    },
  },
  ...(['pass', 'warn', 'fail'] as const).map((verb): Route => ({
    methods: ['PUT'], path: `/v1/agent/check/${verb}/`, prefix: true, acl: 'deny', scope: 'agent',
    handle: (ctx, id) => {
      const status = verb === 'pass' ? 'passing' : verb === 'warn' ? 'warning' : 'critical'
      return ttlUpdate(ctx, id, status, ctx.query.get('note') ?? '')
    },
  })),
  {
    methods: ['PUT'], path: '/v1/agent/check/update/', prefix: true, acl: 'deny', scope: 'agent',
    handle: async (ctx, id) => {
      const body = parseJson(await ctx.body())
      if (body !== undefined && !isObject(body)) throw badRequest('Request decode failed: json: cannot unmarshal into Go value of type checkUpdate')
      const status = body === undefined ? '' : field(body, 'Status')
      const output = body === undefined ? '' : field(body, 'Output') ?? ''
      if (typeof status !== 'string' || !statuses.includes(status)) throw badRequest(`Invalid check status: '${String(status)}'`)
      if (typeof output !== 'string') throw badRequest('Request decode failed: json: cannot unmarshal into Go struct field checkUpdate.Output of type string')
      return ttlUpdate(ctx, id, status as HealthStatus, output)
    },
  },
  {
    methods: ['GET'], path: '/v1/agent/self', acl: 'deny', scope: 'agent',
    handle: (ctx) => {
      const node = ctx.shared.catalog.nodes.get(ctx.node)
      return {
        json: {
          Config: { Datacenter: ctx.shared.catalog.datacenter, NodeName: ctx.node, NodeID: node?.id ?? '', Server: true, Version: '0.0.0-fedgres-test' },
          Member: { Name: ctx.node, Addr: node?.address ?? '', Port: 8301, Status: 1, Tags: {} },
        },
      }
    },
  },
  {
    methods: ['GET'], path: '/v1/agent/members', acl: 'filter', scope: 'agent',
    handle: (ctx) => {
      const { catalog } = ctx.shared
      return {
        json: [...catalog.nodes.values()].map((n) => ({
          Name: n.name, Addr: n.address, Port: 8301, Tags: {},
          // Serf member status: 1 alive, 4 failed.
          Status: catalog.check(n.name, SERF_CHECK)?.status === 'critical' ? 4 : 1,
        })),
      }
    },
  },
]
