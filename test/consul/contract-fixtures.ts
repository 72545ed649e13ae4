/**
 * What the Consul contract suites share: names unique to this run, a TTL-checked registration,
 * health reads, and a dedicated test server for scenarios that drive faults through its hooks.
 */
import { randomBytes } from 'node:crypto'
import type Consul from 'consul'
import type { HealthCheckJson, ServiceEntryJson } from './api-types.js'
import { startConsulTestServer, type ConsulTestServer, type ConsulTestServerOptions } from './consul-test-server.js'
import { call, client, eventually, REAL_CONSUL, type Opts, type Target } from './contract-helpers.js'

const run = randomBytes(3).toString('hex')
export const svcName = (s: string) => `fedgres-contract-${run}-${s}`
export const kvPrefix = `fedgres-contract/${run}/`
export const kvKey = (s: string) => kvPrefix + s
export const ttlCheck = (svc: string) => `${svc}:ttl`
export const needsHooks = REAL_CONSUL ? 'needs the test server hooks; not run against a real agent' : false

/** Services registered on the shared agent, deregistered when the suite ends. */
export const registered = new Set<string>()

/** Registers service `svc` (ID = name) with one TTL check `<svc>:ttl`; check fields override. */
export async function registerTtl(c: Consul, svc: string, check: Opts = {}, extra: Opts = {}): Promise<void> {
  registered.add(svc)
  await call(c.agent.service, c.agent.service.register, {
    name: svc, id: svc, address: '10.0.0.17', port: 7443, ...extra,
    check: { checkid: ttlCheck(svc), name: 'edge heartbeat', ttl: '10s', ...check },
  })
}

export const health = async (c: Consul, service: string, passing: boolean, extra: Opts = {}) =>
  (await call(c.health, c.health.service, { service, passing, ...extra })) as ServiceEntryJson[]

export const checkOf = (entries: ServiceEntryJson[], id: string): HealthCheckJson | undefined => entries[0]?.Checks.find((c) => c.CheckID === id)

/** `n` passing instances of `svc`, waited for (a real agent syncs to the catalog asynchronously). */
export const passingCount = (c: Consul, svc: string, n: number) =>
  eventually(`${n} passing instance(s) of ${svc}`, async () => {
    const e = await health(c, svc, true)
    return e.length === n && e
  })

/** A dedicated test server and client, for scenarios that drive faults through hooks. */
export async function withServer(opts: ConsulTestServerOptions, fn: (s: ConsulTestServer, c: Consul, t: Target) => Promise<void>): Promise<void> {
  const s = await startConsulTestServer(opts)
  const t: Target = { url: new URL(s.url), token: opts.aclToken }
  const c = client(t)
  try {
    await fn(s, c, t)
  } finally {
    c.destroy()
    await s.close()
  }
}
