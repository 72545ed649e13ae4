/**
 * Catalog records as Consul's JSON (see `api-types.ts`): tag lists are never null (Consul's HTTP
 * layer replaces nil slices with `[]`), a service registered without Meta shows `null` in health
 * and catalog reads but `{}` on agent endpoints, `omitempty` fields are left out when empty, and
 * map keys are sorted as Go's encoder sorts them.
 */
import type { AgentServiceJson, CatalogServiceJson, HealthCheckJson, HealthServiceJson, NodeJson, ServiceEntryJson } from './api-types.js'
import type { Catalog, CheckRec, NodeRec, ServiceRec } from './catalog.js'
import { sortedRecord } from './http-util.js'

export function nodeJson(n: NodeRec): NodeJson {
  return {
    ID: n.id,
    Node: n.name,
    Address: n.address,
    Datacenter: n.datacenter,
    TaggedAddresses: nodeTaggedAddresses(n),
    Meta: sortedRecord(n.meta),
    CreateIndex: n.createIndex,
    ModifyIndex: n.modifyIndex,
  }
}

const nodeTaggedAddresses = (n: NodeRec) => sortedRecord({ lan: n.address, lan_ipv4: n.address, wan: n.address, wan_ipv4: n.address })

/** `{ key: value }` when `value` is a non-empty map: Go's `omitempty`. */
const omitEmpty = <K extends string, V extends object>(key: K, value: V): { [k in K]?: V } =>
  (Object.keys(value).length > 0 ? { [key]: value } : {}) as { [k in K]?: V }

const emptyProxy = () => ({ Mode: '', MeshGateway: {}, Expose: {} })

/** The `Service` of a health entry. */
export function healthServiceJson(s: ServiceRec): HealthServiceJson {
  return {
    ID: s.id,
    Service: s.name,
    Tags: [...s.tags],
    Address: s.address,
    ...omitEmpty('TaggedAddresses', sortedRecord(s.taggedAddresses)),
    Meta: s.meta && sortedRecord(s.meta),
    Port: s.port,
    Weights: { ...s.weights },
    EnableTagOverride: s.enableTagOverride,
    Proxy: emptyProxy(),
    Connect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  }
}

/** A `/v1/agent/services` value (agent-local: no raft indexes). */
export function agentServiceJson(s: ServiceRec, datacenter: string): AgentServiceJson {
  return {
    ID: s.id,
    Service: s.name,
    Tags: [...s.tags],
    Meta: sortedRecord(s.meta ?? {}),
    Port: s.port,
    Address: s.address,
    ...omitEmpty('TaggedAddresses', sortedRecord(s.taggedAddresses)),
    Weights: { ...s.weights },
    EnableTagOverride: s.enableTagOverride,
    Datacenter: datacenter,
  }
}

/** A health check; agent-local views (`/v1/agent/checks`) carry indexes 0 as the agent's own state has none. */
export function checkJson(c: CheckRec, catalog: Catalog, agentLocal = false): HealthCheckJson {
  const svc = c.serviceId === '' ? undefined : catalog.service(c.node, c.serviceId)
  return {
    Node: c.node,
    CheckID: c.id,
    Name: c.name,
    Status: c.status,
    Notes: c.notes,
    Output: c.output,
    ServiceID: c.serviceId,
    ServiceName: svc?.name ?? c.serviceName,
    ServiceTags: svc ? [...svc.tags] : [],
    Type: c.type,
    ...(c.interval !== '' ? { Interval: c.interval } : {}),
    ...(c.timeout !== '' ? { Timeout: c.timeout } : {}),
    Definition: { ...c.definition },
    CreateIndex: agentLocal ? 0 : c.createIndex,
    ModifyIndex: agentLocal ? 0 : c.modifyIndex,
  }
}

/** `/v1/health/service/:name` entries; `passing` keeps those whose every check (node checks included) passes. */
export function serviceEntries(catalog: Catalog, name: string, passing: boolean): ServiceEntryJson[] {
  const out: ServiceEntryJson[] = []
  for (const s of catalog.instances(name)) {
    const node = catalog.nodes.get(s.node)
    if (!node) continue
    const checks = catalog.checksOf(s.node, s.id)
    if (passing && checks.some((c) => c.status !== 'passing')) continue
    out.push({ Node: nodeJson(node), Service: healthServiceJson(s), Checks: checks.map((c) => checkJson(c, catalog)) })
  }
  return out
}

export function catalogServiceJson(n: NodeRec, s: ServiceRec): CatalogServiceJson {
  return {
    ID: n.id,
    Node: n.name,
    Address: n.address,
    Datacenter: n.datacenter,
    TaggedAddresses: nodeTaggedAddresses(n),
    NodeMeta: sortedRecord(n.meta),
    ServiceKind: s.kind,
    ServiceID: s.id,
    ServiceName: s.name,
    ServiceTags: [...s.tags],
    ServiceAddress: s.address,
    ...omitEmpty('ServiceTaggedAddresses', sortedRecord(s.taggedAddresses)),
    ServiceWeights: { ...s.weights },
    ServiceMeta: s.meta && sortedRecord(s.meta),
    ServicePort: s.port,
    ServiceEnableTagOverride: s.enableTagOverride,
    ServiceProxy: emptyProxy(),
    ServiceConnect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  }
}

/** `/v1/catalog/services`: every service name with the union of its instances' tags. */
export function catalogServices(services: readonly ServiceRec[]): Record<string, string[]> {
  const tags = new Map<string, Set<string>>()
  for (const s of services) {
    const set = tags.get(s.name) ?? new Set<string>()
    for (const t of s.tags) set.add(t)
    tags.set(s.name, set)
  }
  return sortedRecord(Object.fromEntries([...tags].map(([k, v]) => [k, [...v].sort()])))
}
