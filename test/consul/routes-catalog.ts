/**
 * `/v1/health/*`, `/v1/catalog/*` and `/v1/status/*` endpoints of the project's Consul test
 * server. The service-scoped reads block on the per-service index; node-wide and state reads
 * use the global index (they may wake on unrelated writes, which real Consul also allows).
 */
import type { HealthStatus } from './api-types.js'
import { serveBlocking } from './blocking.js'
import { filterFromQuery } from './filter.js'
import { badRequest, boolParam, type Reply } from './http-util.js'
import { catalogServiceJson, catalogServices, checkJson, nodeJson, serviceEntries } from './render.js'
import type { Ctx, Route } from './router.js'

/** Blocking read helper: `render` runs on every wake-up. */
const blocking = (ctx: Ctx, render: () => Reply, peek?: () => number) => serveBlocking(ctx.query, ctx.res, ctx.shared.log, ctx.shared.tuning, render, peek)

/** The deprecated `?tag=` (repeatable): instances carrying every given tag. */
const hasTags = (ctx: Ctx) => {
  const wanted = ctx.query.getAll('tag')
  return (tags: readonly string[]) => wanted.every((t) => tags.includes(t))
}

const checkStates: readonly string[] = ['any', 'passing', 'warning', 'critical']

export const catalogRoutes: Route[] = [
  {
    methods: ['GET'], path: '/v1/health/service/', prefix: true, acl: 'filter', scope: 'server',
    handle: (ctx, name) => {
      const passing = boolParam(ctx.query, 'passing')
      const keep = filterFromQuery(ctx.query)
      const tagged = hasTags(ctx)
      const { catalog } = ctx.shared
      return blocking(ctx, () => ({
        index: catalog.serviceIndex(name),
        json: serviceEntries(catalog, name, passing).filter((e) => tagged(e.Service.Tags) && keep(e)),
      }), () => catalog.serviceIndex(name))
    },
  },
  {
    methods: ['GET'], path: '/v1/health/checks/', prefix: true, acl: 'filter', scope: 'server',
    handle: (ctx, name) => {
      const keep = filterFromQuery(ctx.query)
      const { catalog } = ctx.shared
      return blocking(ctx, () => ({
        index: catalog.serviceIndex(name),
        json: catalog.instances(name).flatMap((s) => catalog.checksOf(s.node, s.id).filter((c) => c.serviceId === s.id).map((c) => checkJson(c, catalog))).filter(keep),
      }))
    },
  },
  {
    methods: ['GET'], path: '/v1/health/node/', prefix: true, acl: 'filter', scope: 'server',
    handle: (ctx, node) => {
      const keep = filterFromQuery(ctx.query)
      const { catalog, log } = ctx.shared
      return blocking(ctx, () => ({ index: log.index, json: catalog.checksOf(node).map((c) => checkJson(c, catalog)).filter(keep) }))
    },
  },
  {
    methods: ['GET'], path: '/v1/health/state/', prefix: true, acl: 'filter', scope: 'server',
    handle: (ctx, state) => {
      if (!checkStates.includes(state)) throw badRequest(`Invalid check state: ${state}`)
      const keep = filterFromQuery(ctx.query)
      const { catalog, log } = ctx.shared
      const wanted = (s: HealthStatus) => state === 'any' || s === state
      return blocking(ctx, () => ({
        index: log.index,
        json: [...catalog.checks.values()].filter((c) => wanted(c.status)).sort((a, b) => (a.node + a.id < b.node + b.id ? -1 : 1)).map((c) => checkJson(c, catalog)).filter(keep),
      }))
    },
  },
  {
    methods: ['GET'], path: '/v1/catalog/services', acl: 'filter', scope: 'server',
    handle: (ctx) => {
      const keep = filterFromQuery(ctx.query)
      const { catalog } = ctx.shared
      return blocking(ctx, () => {
        // `?filter=` here sees each instance as a flat CatalogService (ServiceTags, ServiceMeta...).
        const instances = [...catalog.services.values()].filter((s) => {
          const node = catalog.nodes.get(s.node)
          return node !== undefined && keep(catalogServiceJson(node, s))
        })
        return { index: catalog.catalogIndex, json: catalogServices(instances) }
      })
    },
  },
  {
    methods: ['GET'], path: '/v1/catalog/service/', prefix: true, acl: 'filter', scope: 'server',
    handle: (ctx, name) => {
      const keep = filterFromQuery(ctx.query)
      const tagged = hasTags(ctx)
      const { catalog } = ctx.shared
      return blocking(ctx, () => ({
        index: catalog.serviceIndex(name),
        json: catalog.instances(name).filter((s) => tagged(s.tags)).flatMap((s) => {
          const node = catalog.nodes.get(s.node)
          return node ? [catalogServiceJson(node, s)] : []
        }).filter(keep),
      }))
    },
  },
  {
    methods: ['GET'], path: '/v1/catalog/nodes', acl: 'filter', scope: 'server',
    handle: (ctx) => {
      const keep = filterFromQuery(ctx.query)
      const { catalog } = ctx.shared
      return blocking(ctx, () => ({ index: catalog.catalogIndex, json: [...catalog.nodes.values()].map(nodeJson).filter(keep) }))
    },
  },
  {
    methods: ['GET'], path: '/v1/catalog/datacenters', acl: 'open', scope: 'agent',
    handle: (ctx) => ({ json: [ctx.shared.catalog.datacenter] }),
  },
  {
    // Without a leader Consul answers `""` here rather than an error.
    methods: ['GET'], path: '/v1/status/leader', acl: 'open', scope: 'agent',
    handle: (ctx) => ({ json: ctx.noLeader ? '' : '127.0.0.1:8300' }),
  },
  {
    methods: ['GET'], path: '/v1/status/peers', acl: 'open', scope: 'agent',
    handle: () => ({ json: ['127.0.0.1:8300'] }),
  },
]
