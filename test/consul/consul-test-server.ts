/**
 * A Consul-HTTP-API-compatible TEST SERVER WRITTEN BY THIS PROJECT. It is not Consul and contains
 * no Consul code: no Consul binary can run on the development and CI machines, so the project's
 * tests talk HTTP to this in-process model of the API subset the project uses (agent service and
 * check registration, TTL checks and reaping, health and catalog reads, KV, blocking queries,
 * optional ACL token), with hooks for faults real Consul exhibits. `consul-contract.test.ts`
 * runs the same scenarios against it and, given `CONSUL_HTTP_ADDR`, against a real agent.
 * What it models and what it does not: `README.md` beside this file and docs/consul.md §2.3.
 *
 * Each simulated agent is its own loopback listener bound to one node; they share one
 * datacenter's server state (catalog, KV, raft index), as real agents share their servers.
 */
import { AgentListener, type ConsulTestAgent, type DownMode } from './agent-listener.js'
import { AgentState } from './agent-state.js'
import type { HealthStatus } from './api-types.js'
import { Catalog } from './catalog.js'
import { KvStore } from './kv-store.js'
import { RaftLog } from './raft-log.js'
import type { Shared } from './router.js'

export type { ConsulTestAgent, DownMode, HealthStatus }

export interface ConsulTestServerOptions {
  /** Node name of the first agent (a server node, which also hosts the `consul` service). */
  nodeName?: string
  /** Address the first node advertises; the listener itself is always 127.0.0.1:<random>. */
  address?: string
  datacenter?: string
  /** Reaper period in ms (real Consul: 30 s). */
  reapInterval?: number
  /** Floor for `DeregisterCriticalServiceAfter`, in ms (real Consul: 1 min). */
  minDeregisterAfter?: number
  /** Multiplies blocking-query waits (e.g. 0.01 turns `wait=5m` into 3 s). Default 1. */
  waitScale?: number
  /** Random extra wait of up to wait/16, as real Consul adds. Default true. */
  waitJitter?: boolean
  /** Turns ACLs on with default deny: this token may do everything, anonymous callers nothing. */
  aclToken?: string
  /** Artificial latency for every request, in ms. */
  latency?: number
}

export interface ConsulTestServer extends ConsulTestAgent {
  /** Every agent, the first one included. */
  readonly agents: readonly ConsulTestAgent[]
  /** Another agent (node) over the same servers, on its own port. */
  addAgent(opts: { nodeName: string; address?: string }): Promise<ConsulTestAgent>
  /** The current raft index (the highest `ModifyIndex` anywhere). */
  readonly index: number
  /** Makes the index go backwards, as after a snapshot restore; blocked queries return at once. */
  resetIndex(to: number): void
  /** The next response carrying `X-Consul-Index` says 0, which real clients must treat as an error. */
  injectZeroIndexOnce(): void
  /** Queries blocked right now, so a test can wait until a watcher is parked before changing state. */
  readonly blockedQueries: number
  /** Returns every blocked query now with unchanged data (a wake-up real Consul is allowed to do). */
  wakeBlockedQueries(): void
  /** Delays every request to every agent by `ms`. */
  setLatency(ms: number): void
  /** Runs one reaper pass now instead of waiting for the next period. */
  reap(): void
  /** Closes every agent and stops every timer. */
  close(): Promise<void>
}

export async function startConsulTestServer(opts: ConsulTestServerOptions = {}): Promise<ConsulTestServer> {
  const log = new RaftLog()
  const catalog = new Catalog(log, opts.datacenter ?? 'dc1')
  const shared: Shared = {
    log,
    catalog,
    agents: new AgentState(catalog, { reapIntervalMs: opts.reapInterval ?? 30_000, minDeregisterAfterMs: opts.minDeregisterAfter ?? 60_000 }),
    kv: new KvStore(log),
    tuning: { waitScale: opts.waitScale ?? 1, waitJitter: opts.waitJitter ?? true },
    aclToken: opts.aclToken,
  }
  const server = new TestServer(shared, opts.latency ?? 0)
  const first = await server.addAgent({ nodeName: opts.nodeName ?? 'consul-test-server', address: opts.address ?? '127.0.0.1' })
  // A server node carries the `consul` service, so `/v1/catalog/services` lists `consul: []`.
  log.write((idx) => {
    catalog.putService({
      node: first.nodeName, id: 'consul', name: 'consul', kind: '', tags: [], address: '', port: 8300, meta: null, taggedAddresses: {},
      weights: { Passing: 1, Warning: 1 }, enableTagOverride: false, internal: true,
    }, idx)
    return { changed: true, result: undefined }
  })
  return server
}

class TestServer implements ConsulTestServer {
  readonly #agents: AgentListener[] = []

  constructor(readonly shared: Shared, readonly latency: number) {}

  get #first(): AgentListener {
    return this.#agents[0]!
  }

  get agents(): readonly ConsulTestAgent[] {
    return [...this.#agents]
  }

  async addAgent(opts: { nodeName: string; address?: string }): Promise<ConsulTestAgent> {
    if (this.shared.catalog.nodes.has(opts.nodeName)) throw new Error(`node ${opts.nodeName} already exists`)
    const address = opts.address ?? '127.0.0.1'
    this.shared.catalog.addNode(opts.nodeName, address)
    const agent = new AgentListener(opts.nodeName, address, this.shared, this.latency)
    await agent.listen()
    this.#agents.push(agent)
    return agent
  }

  get host(): string {
    return this.#first.host
  }

  get port(): number {
    return this.#first.port
  }

  get url(): string {
    return this.#first.url
  }

  get nodeName(): string {
    return this.#first.nodeName
  }

  get address(): string {
    return this.#first.address
  }

  get index(): number {
    return this.shared.log.index
  }

  setDown(down: boolean, mode?: DownMode): Promise<void> {
    return this.#first.setDown(down, mode)
  }

  setLatency(ms: number): void {
    for (const a of this.#agents) a.setLatency(ms)
  }

  restart(opts: { keepState: boolean; downtimeMs?: number }): Promise<void> {
    return this.#first.restart(opts)
  }

  setNodeHealth(status: HealthStatus, output?: string): void {
    this.#first.setNodeHealth(status, output)
  }

  setCheckStatus(checkId: string, status: HealthStatus, output?: string): boolean {
    return this.#first.setCheckStatus(checkId, status, output)
  }

  get blockedQueries(): number {
    return this.shared.log.waiting
  }

  resetIndex(to: number): void {
    this.shared.log.reset(to)
  }

  injectZeroIndexOnce(): void {
    this.shared.log.injectZeroOnce()
  }

  wakeBlockedQueries(): void {
    this.shared.log.wakeAll()
  }

  reap(): void {
    this.shared.agents.reap()
  }

  async close(): Promise<void> {
    this.shared.agents.dispose()
    await Promise.all(this.#agents.map((a) => a.close()))
  }
}
