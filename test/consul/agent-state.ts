/**
 * What a Consul agent does to its services and checks, on top of the catalog: registration with
 * check-state carry-over, TTL timers, maintenance mode, the critical-service reaper and the loss
 * of state on a restart without a data dir. Part of the project's Consul-compatible test server.
 */
import type { HealthStatus } from './api-types.js'
import { key, SERF_CHECK, type Catalog, type CheckRec, type ServiceRec } from './catalog.js'
import type { CheckDef, ServiceDef } from './register-body.js'

export interface AgentTiming {
  /** Real Consul: 60 s. A shorter `DeregisterCriticalServiceAfter` is raised to this. */
  minDeregisterAfterMs: number
  /** Real Consul: 30 s between reaper passes. */
  reapIntervalMs: number
}

/** `check.OutputMaxSize` default: longer TTL output is cut and annotated. */
const OUTPUT_MAX = 4096
const MAINT_REASON = 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.'
export const maintenanceCheckId = (serviceId: string) => `_service_maintenance:${serviceId}`

export type TtlUpdate = 'ok' | 'unknown' | 'not-ttl'

export class AgentState {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  /** Output of the last TTL update, quoted when the TTL expires (as `CheckTTL.lastOutput`). */
  readonly #lastOutput = new Map<string, string>()
  readonly #reaper: NodeJS.Timeout

  constructor(readonly catalog: Catalog, readonly timing: AgentTiming) {
    this.#reaper = setInterval(() => this.reap(), timing.reapIntervalMs)
    this.#reaper.unref()
  }

  /**
   * Register or re-register. Like the agent, an existing check keeps its status and output (the
   * agent snapshots and restores check state), but its TTL clock restarts. Without
   * `replaceChecks`, checks the new definition omits stay.
   */
  registerService(node: string, def: ServiceDef, replaceChecks: boolean): void {
    const { catalog } = this
    catalog.log.write((idx) => {
      let changed = false
      const old = catalog.service(node, def.id)
      const rec: Omit<ServiceRec, 'createIndex' | 'modifyIndex'> = {
        node, id: def.id, name: def.name, kind: def.kind, tags: def.tags, address: def.address, port: def.port, meta: def.meta,
        taggedAddresses: def.taggedAddresses, weights: def.weights, enableTagOverride: def.enableTagOverride, internal: false,
      }
      if (!old || !same(strip(old), rec)) {
        catalog.putService(rec, idx)
        changed = true
      }
      for (const cd of def.checks) changed = this.#putCheck(node, cd, def.name, idx) || changed
      if (replaceChecks) {
        const keep = new Set(def.checks.map((c) => c.id))
        for (const c of catalog.checksOf(node, def.id)) {
          if (c.serviceId === def.id && !keep.has(c.id)) changed = this.#dropCheck(node, c.id, idx) || changed
        }
      }
      return { changed, result: undefined }
    })
  }

  /** A service this agent owns: the catalog-only `consul` service is not the agent's to change. */
  own(node: string, id: string): ServiceRec | undefined {
    const svc = this.catalog.service(node, id)
    return svc && !svc.internal ? svc : undefined
  }

  deregisterService(node: string, id: string): void {
    if (!this.own(node, id)) return
    const checks = this.catalog.checksOf(node, id).filter((c) => c.serviceId === id)
    this.catalog.log.write((idx) => ({ changed: this.catalog.removeService(node, id, idx), result: undefined }))
    for (const c of checks) this.#disarm(node, c.id)
  }

  /** `PUT /v1/agent/check/register`; false when the named service is not on this agent. */
  registerCheck(node: string, def: CheckDef): boolean {
    const svc = def.serviceId === '' ? undefined : this.own(node, def.serviceId)
    if (def.serviceId !== '' && !svc) return false
    this.catalog.log.write((idx) => ({ changed: this.#putCheck(node, def, svc?.name ?? '', idx), result: undefined }))
    return true
  }

  deregisterCheck(node: string, id: string): void {
    this.catalog.log.write((idx) => ({ changed: this.#dropCheck(node, id, idx), result: undefined }))
  }

  /** pass/warn/fail/update: sets status and output and restarts the TTL clock. */
  updateTtl(node: string, checkId: string, status: HealthStatus, output: string): TtlUpdate {
    const c = this.catalog.check(node, checkId)
    if (!c) return 'unknown'
    if (c.ttlMs <= 0) return 'not-ttl'
    const total = Buffer.byteLength(output)
    if (total > OUTPUT_MAX) output = `${Buffer.from(output).subarray(0, OUTPUT_MAX).toString()} ... (captured ${OUTPUT_MAX} of ${total} bytes)`
    this.setStatus(node, checkId, status, output)
    this.#lastOutput.set(key(node, checkId), output)
    this.#arm(c)
    return 'ok'
  }

  /** Sets any check's status: the TTL path, and the test hook that stands in for HTTP/TCP probes. */
  setStatus(node: string, checkId: string, status: HealthStatus, output: string): boolean {
    const c = this.catalog.check(node, checkId)
    if (!c) return false
    this.catalog.log.write((idx) => ({ changed: this.catalog.setStatus(c, status, output, idx), result: undefined }))
    return true
  }

  /** Adds or removes the critical `_service_maintenance:<id>` check; false for an unknown service. */
  setMaintenance(node: string, serviceId: string, enable: boolean, reason: string): boolean {
    const svc = this.own(node, serviceId)
    if (!svc) return false
    const id = maintenanceCheckId(serviceId)
    if (!enable) {
      this.deregisterCheck(node, id)
      return true
    }
    if (this.catalog.check(node, id)) return true
    this.catalog.log.write((idx) => {
      this.catalog.putCheck(this.#newCheck(node, {
        id, name: 'Service Maintenance Mode', serviceId, type: 'maintenance', ttlMs: 0, status: 'critical', notes: reason || MAINT_REASON,
        interval: '', timeout: '', deregisterAfterMs: 0, definition: {},
      }, svc.name, idx))
      return { changed: true, result: undefined }
    })
    return true
  }

  /** The node's serfHealth: critical models a failed agent (gossip no longer reaches it). */
  setNodeHealth(node: string, status: HealthStatus, output?: string): void {
    const out = output ?? (status === 'passing' ? 'Agent alive and reachable' : 'Agent not live or unreachable')
    this.setStatus(node, SERF_CHECK, status, out)
  }

  /**
   * An agent restarted with an empty data dir (`-dev`, ephemeral volume): it no longer knows its
   * services and checks, and anti-entropy removes them from the catalog.
   */
  forget(node: string): void {
    const { catalog } = this
    const services = catalog.agentServices(node)
    const checks = catalog.checksOf(node).filter((c) => c.id !== SERF_CHECK && !services.some((s) => s.id === c.serviceId && s.internal))
    catalog.log.write((idx) => {
      let changed = false
      for (const s of services) changed = catalog.removeService(node, s.id, idx) || changed
      for (const c of checks) changed = catalog.removeCheck(node, c.id, idx) || changed
      return { changed, result: undefined }
    })
    for (const c of checks) this.#disarm(node, c.id)
  }

  /** One reaper pass: services whose check has been critical longer than its deregister timeout go. */
  reap(now = Date.now()): void {
    for (const c of [...this.catalog.checks.values()]) {
      if (c.deregisterAfterMs <= 0 || c.status !== 'critical' || c.criticalSince === undefined) continue
      if (now - c.criticalSince > c.deregisterAfterMs && c.serviceId !== '') this.deregisterService(c.node, c.serviceId)
    }
  }

  dispose(): void {
    clearInterval(this.#reaper)
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
  }

  #putCheck(node: string, cd: CheckDef, serviceName: string, idx: number): boolean {
    const { catalog } = this
    const existing = catalog.check(node, cd.id)
    const next = this.#newCheck(node, cd, serviceName, idx)
    if (existing) {
      next.status = existing.status
      next.output = existing.output
      next.criticalSince = existing.criticalSince
      next.createIndex = existing.createIndex
      next.modifyIndex = existing.modifyIndex
    }
    this.#lastOutput.delete(key(node, cd.id))
    const changed = !existing || !same(checkShape(existing), checkShape(next))
    if (changed) {
      next.modifyIndex = idx
      catalog.putCheck(next)
    } else {
      // Same definition: keep the record but adopt the (possibly raised) reap timeout.
      existing.deregisterAfterMs = next.deregisterAfterMs
    }
    this.#arm(changed ? next : existing!)
    return changed
  }

  #newCheck(node: string, cd: CheckDef, serviceName: string, idx: number): CheckRec {
    const status = cd.status ?? 'critical'
    const minimum = this.timing.minDeregisterAfterMs
    return {
      node, id: cd.id, name: cd.name, status, notes: cd.notes, output: '', serviceId: cd.serviceId, serviceName, type: cd.type,
      interval: cd.interval, timeout: cd.timeout, definition: cd.definition, ttlMs: cd.ttlMs,
      deregisterAfterMs: cd.deregisterAfterMs > 0 ? Math.max(cd.deregisterAfterMs, minimum) : 0,
      criticalSince: status === 'critical' ? Date.now() : undefined, createIndex: idx, modifyIndex: idx,
    }
  }

  #dropCheck(node: string, id: string, idx: number): boolean {
    this.#disarm(node, id)
    return this.catalog.removeCheck(node, id, idx)
  }

  #arm(c: CheckRec): void {
    this.#disarm(c.node, c.id)
    if (c.ttlMs <= 0) return
    const k = key(c.node, c.id)
    const timer = setTimeout(() => {
      this.#timers.delete(k)
      const last = this.#lastOutput.get(k) ?? ''
      const output = last === '' ? 'TTL expired' : `TTL expired (last output before timeout follows): ${last}`
      this.setStatus(c.node, c.id, 'critical', output)
    }, c.ttlMs)
    timer.unref()
    this.#timers.set(k, timer)
  }

  #disarm(node: string, id: string): void {
    const k = key(node, id)
    const t = this.#timers.get(k)
    if (t) clearTimeout(t)
    this.#timers.delete(k)
  }
}

/** Structural equality with map keys sorted: Consul compares definitions, not key order. */
const same = (a: unknown, b: unknown) => stable(a) === stable(b)

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'undefined'
}

function strip(s: ServiceRec): Omit<ServiceRec, 'createIndex' | 'modifyIndex'> {
  const { createIndex: _c, modifyIndex: _m, ...rest } = s
  return rest
}

/** What makes a check definition different (status and indexes are state, not definition). */
const checkShape = (c: CheckRec) => [c.name, c.notes, c.serviceId, c.serviceName, c.type, c.interval, c.timeout, c.definition, c.ttlMs]
