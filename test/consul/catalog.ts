/**
 * Catalog state of the project's Consul test server: nodes, services and checks, and the per
 * resource indexes blocking queries compare against. Agent registration syncs to the catalog
 * immediately (real anti-entropy does it within seconds), so each agent's local state is simply
 * its node's slice of the catalog. TTL timing and reaping live in `checks.ts`.
 */
import { randomUUID } from 'node:crypto'
import type { HealthStatus, ServiceAddress } from './api-types.js'
import { clampIndex, type RaftLog } from './raft-log.js'

export interface NodeRec {
  id: string
  name: string
  address: string
  datacenter: string
  meta: Record<string, string>
  createIndex: number
  modifyIndex: number
}

export interface ServiceRec {
  node: string
  id: string
  name: string
  kind: string
  tags: string[]
  address: string
  port: number
  /** null when registered without Meta (Go nil map). */
  meta: Record<string, string> | null
  taggedAddresses: Record<string, ServiceAddress>
  weights: { Passing: number; Warning: number }
  enableTagOverride: boolean
  /** Catalog-only (the `consul` service of a server node): not in `/v1/agent/services`, survives restarts. */
  internal: boolean
  createIndex: number
  modifyIndex: number
}

export interface CheckRec {
  node: string
  id: string
  name: string
  status: HealthStatus
  notes: string
  output: string
  /** '' for node-level checks such as serfHealth. */
  serviceId: string
  serviceName: string
  type: string
  interval: string
  timeout: string
  definition: Record<string, unknown>
  ttlMs: number
  /** Already raised to the configured minimum; 0 when the check never reaps its service. */
  deregisterAfterMs: number
  /** Wall-clock ms when the check last entered critical. */
  criticalSince: number | undefined
  createIndex: number
  modifyIndex: number
}

export const SERF_CHECK = 'serfHealth'
export const key = (node: string, id: string) => `${node}\u0000${id}`

export class Catalog {
  readonly nodes = new Map<string, NodeRec>()
  readonly services = new Map<string, ServiceRec>()
  readonly checks = new Map<string, CheckRec>()
  /** Per service name: bumped when an instance, one of its checks or its node's checks change. */
  readonly #svcIndex = new Map<string, number>()
  /** Highest write to the nodes or services tables (what `/v1/catalog/services` reports). */
  #catalogIndex = 1
  /** When a service name last lost its final instance: the index Consul reports for unknown names. */
  #extinctionIndex = 1

  constructor(readonly log: RaftLog, readonly datacenter: string) {
    log.onReset((to) => {
      for (const r of [...this.nodes.values(), ...this.services.values(), ...this.checks.values()]) {
        r.createIndex = clampIndex(r.createIndex, to)
        r.modifyIndex = clampIndex(r.modifyIndex, to)
      }
      for (const [name, idx] of this.#svcIndex) this.#svcIndex.set(name, clampIndex(idx, to))
      this.#catalogIndex = clampIndex(this.#catalogIndex, to)
      this.#extinctionIndex = clampIndex(this.#extinctionIndex, to)
    })
  }

  /** A node joins with a passing serfHealth check, in one write. */
  addNode(name: string, address: string): NodeRec {
    return this.log.write((idx) => {
      const node: NodeRec = { id: randomUUID(), name, address, datacenter: this.datacenter, meta: { 'consul-network-segment': '' }, createIndex: idx, modifyIndex: idx }
      this.nodes.set(name, node)
      this.checks.set(key(name, SERF_CHECK), {
        node: name, id: SERF_CHECK, name: 'Serf Health Status', status: 'passing', notes: '', output: 'Agent alive and reachable',
        serviceId: '', serviceName: '', type: '', interval: '', timeout: '', definition: {}, ttlMs: 0, deregisterAfterMs: 0,
        criticalSince: undefined, createIndex: idx, modifyIndex: idx,
      })
      this.#catalogIndex = idx
      return { changed: true, result: node }
    })
  }

  service(node: string, id: string): ServiceRec | undefined {
    return this.services.get(key(node, id))
  }

  check(node: string, id: string): CheckRec | undefined {
    return this.checks.get(key(node, id))
  }

  /** Instances of a service name, in Consul's order (node name, then service ID). */
  instances(name: string): ServiceRec[] {
    return [...this.services.values()].filter((s) => s.name === name).sort((a, b) => cmp(a.node, b.node) || cmp(a.id, b.id))
  }

  /** Services an agent owns (what `/v1/agent/services` lists). */
  agentServices(node: string): ServiceRec[] {
    return [...this.services.values()].filter((s) => s.node === node && !s.internal).sort((a, b) => cmp(a.id, b.id))
  }

  /** Checks of one node; `serviceId` narrows to node-level checks plus that service's own. Ordered by CheckID. */
  checksOf(node: string, serviceId?: string): CheckRec[] {
    return [...this.checks.values()]
      .filter((c) => c.node === node && (serviceId === undefined || c.serviceId === '' || c.serviceId === serviceId))
      .sort((a, b) => cmp(a.id, b.id))
  }

  /** Index of `/v1/health/service/:name` and `/v1/catalog/service/:name`. */
  serviceIndex(name: string): number {
    return this.#svcIndex.get(name) ?? this.#extinctionIndex
  }

  get catalogIndex(): number {
    return this.#catalogIndex
  }

  /** Upserts a service record; the caller has decided it changed. */
  putService(rec: Omit<ServiceRec, 'createIndex' | 'modifyIndex'>, idx: number): ServiceRec {
    const old = this.service(rec.node, rec.id)
    const next: ServiceRec = { ...rec, createIndex: old?.createIndex ?? idx, modifyIndex: idx }
    this.services.set(key(rec.node, rec.id), next)
    this.#catalogIndex = idx
    this.touchService(rec.name, idx)
    if (old && old.name !== rec.name) {
      this.touchService(old.name, idx)
      this.#dropName(old.name, idx)
    }
    return next
  }

  /** Removes a service and every check bound to it. */
  removeService(node: string, id: string, idx: number): boolean {
    const svc = this.service(node, id)
    if (!svc) return false
    this.services.delete(key(node, id))
    for (const c of this.checksOf(node, id)) if (c.serviceId === id) this.checks.delete(key(node, c.id))
    this.#catalogIndex = idx
    this.touchService(svc.name, idx)
    this.#dropName(svc.name, idx)
    return true
  }

  putCheck(rec: CheckRec): void {
    this.checks.set(key(rec.node, rec.id), rec)
    this.touchCheck(rec, rec.modifyIndex)
  }

  removeCheck(node: string, id: string, idx: number): boolean {
    const c = this.check(node, id)
    if (!c) return false
    this.checks.delete(key(node, id))
    this.touchCheck(c, idx)
    return true
  }

  /** Sets a check's status and output; returns whether that changed anything. */
  setStatus(c: CheckRec, status: HealthStatus, output: string, idx: number, now = Date.now()): boolean {
    if (c.status === status && c.output === output) return false
    if (status === 'critical' && c.status !== 'critical') c.criticalSince = now
    if (status !== 'critical') c.criticalSince = undefined
    c.status = status
    c.output = output
    c.modifyIndex = idx
    this.touchCheck(c, idx)
    return true
  }

  /** A check change wakes the health queries of its service, or of every service on its node. */
  touchCheck(c: CheckRec, idx: number): void {
    if (c.serviceId !== '') {
      const svc = this.service(c.node, c.serviceId)
      this.touchService(svc?.name ?? c.serviceName, idx)
      return
    }
    for (const s of this.services.values()) if (s.node === c.node) this.touchService(s.name, idx)
  }

  touchService(name: string, idx: number): void {
    this.#svcIndex.set(name, idx)
  }

  #dropName(name: string, idx: number): void {
    if (this.instances(name).length > 0) return
    this.#svcIndex.delete(name)
    this.#extinctionIndex = idx
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
