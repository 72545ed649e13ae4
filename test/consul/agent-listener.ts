/**
 * One simulated Consul agent of the project's Consul test server: an HTTP listener on loopback
 * bound to one node, over the shared server state, with the agent-level faults (down, latency,
 * restart with or without its data dir).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HealthStatus } from './api-types.js'
import { HttpError, writeReply, type Reply } from './http-util.js'
import { dispatch, type Route, type Shared } from './router.js'
import { agentRoutes } from './routes-agent.js'
import { catalogRoutes } from './routes-catalog.js'
import { kvRoutes } from './routes-kv.js'

const routes: readonly Route[] = [...agentRoutes, ...catalogRoutes, ...kvRoutes]
const RESTART_DOWNTIME_MS = 20

/**
 * How an agent is down: `reset` accepts and immediately destroys connections (ECONNRESET),
 * `refuse` stops listening (ECONNREFUSED), `no-leader` answers server endpoints with
 * 500 `No cluster leader` while `/v1/agent/*` keeps working, as on a real agent.
 */
export type DownMode = 'reset' | 'refuse' | 'no-leader'

export interface ConsulTestAgent {
  readonly host: string
  readonly port: number
  /** `http://127.0.0.1:<port>`, the value for `CONSUL_HTTP_ADDR`. */
  readonly url: string
  readonly nodeName: string
  readonly address: string
  /** Takes the agent down (or back up). Down affects HTTP only; pair with `setNodeHealth` for a dead node. */
  setDown(down: boolean, mode?: DownMode): Promise<void>
  /** Delays every request by `ms` before it is handled. */
  setLatency(ms: number): void
  /**
   * Restarts the agent: open connections (blocked queries included) drop; without `keepState`
   * its services and checks are gone (`-dev` or an ephemeral data dir). KV is server state and
   * stays. The port refuses connections for `downtimeMs` (default 20).
   */
  restart(opts: { keepState: boolean; downtimeMs?: number }): Promise<void>
  /** The node's `serfHealth` check; critical makes every service on the node fail `?passing`. */
  setNodeHealth(status: HealthStatus, output?: string): void
  /** Drives a non-TTL check (HTTP, TCP...), which this server never probes. False if unknown. */
  setCheckStatus(checkId: string, status: HealthStatus, output?: string): boolean
  close(): Promise<void>
}

export class AgentListener implements ConsulTestAgent {
  readonly host = '127.0.0.1'
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #port = 0
  #down: DownMode | undefined
  #latencyMs: number
  #closed = false

  constructor(readonly nodeName: string, readonly address: string, readonly shared: Shared, latencyMs = 0) {
    this.#latencyMs = latencyMs
    this.#server = createServer((req, res) => void this.#handle(req, res))
    this.#server.on('connection', (socket: Socket) => {
      if (this.#down === 'reset' || this.#closed) {
        socket.destroy()
        return
      }
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }

  get port(): number {
    return this.#port
  }

  get url(): string {
    return `http://${this.host}:${this.#port}`
  }

  /** Binds (first on port 0, later the same port again after a refuse/restart). */
  async listen(): Promise<void> {
    if (this.#server.listening || this.#closed) return
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#port, this.host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    this.#port = (this.#server.address() as AddressInfo).port
  }

  async setDown(down: boolean, mode: DownMode = 'reset'): Promise<void> {
    this.#down = down ? mode : undefined
    if (!down || mode !== 'refuse') await this.listen()
    if (!down || mode === 'no-leader') return
    this.#dropConnections()
    if (mode === 'refuse') await this.#unlisten()
  }

  setLatency(ms: number): void {
    this.#latencyMs = ms
  }

  async restart(opts: { keepState: boolean; downtimeMs?: number }): Promise<void> {
    await this.#unlisten()
    if (!opts.keepState) this.shared.agents.forget(this.nodeName)
    // A restart takes time. The default 20 ms also lets clients in this process see their
    // pooled connections close before they send again (a real client may instead hit
    // ECONNRESET on a stale keep-alive socket, which it must retry).
    await sleep(opts.downtimeMs ?? RESTART_DOWNTIME_MS)
    if (this.#down !== 'refuse') await this.listen()
  }

  setNodeHealth(status: HealthStatus, output?: string): void {
    this.shared.agents.setNodeHealth(this.nodeName, status, output)
  }

  setCheckStatus(checkId: string, status: HealthStatus, output = ''): boolean {
    return this.shared.agents.setStatus(this.nodeName, checkId, status, output)
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#unlisten()
  }

  async #unlisten(): Promise<void> {
    const closed = this.#server.listening ? new Promise<void>((resolve) => this.#server.close(() => resolve())) : Promise.resolve()
    this.#dropConnections()
    await closed
  }

  #dropConnections(): void {
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const write = (reply: Reply) => writeReply(res, reply, (i) => this.shared.log.headerIndex(i))
    try {
      if (this.#latencyMs > 0) await sleep(this.#latencyMs)
      const reply = await dispatch(routes, { req, res, node: this.nodeName, shared: this.shared, noLeader: this.#down === 'no-leader' })
      if (reply) write(reply)
    } catch (err) {
      // The server must never crash on input: anything unexpected is a 500 with the message.
      write(err instanceof HttpError ? { status: err.status, text: err.message } : { status: 500, text: String(err) })
    }
  }
}
