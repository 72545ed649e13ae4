/** Idle connections to edges, reused across statements and sessions (they carry no state). */
import { EdgeConnection, type EdgeAddress, type EdgeLogin } from './edge-connection.js'

const MAX_IDLE_PER_EDGE = 8

export class EdgePool {
  readonly #idle = new Map<string, EdgeConnection[]>()
  #closed = false

  constructor(
    readonly login: EdgeLogin,
    readonly connectTimeoutMs: number,
  ) {}

  async acquire(address: EdgeAddress, signal?: AbortSignal): Promise<EdgeConnection> {
    const list = this.#idle.get(key(address))
    while (list && list.length > 0) {
      const c = list.pop()!
      if (!c.broken) return c
    }
    return EdgeConnection.connect(address, this.login, this.connectTimeoutMs, signal)
  }

  /** Returns a connection after its batch completed; anything else is closed. */
  release(c: EdgeConnection): void {
    if (this.#closed || c.broken || c.busy) {
      c.close()
      return
    }
    const k = key(c.address)
    const list = this.#idle.get(k) ?? []
    if (list.length >= MAX_IDLE_PER_EDGE) {
      c.close()
      return
    }
    list.push(c)
    this.#idle.set(k, list)
  }

  close(): void {
    this.#closed = true
    for (const list of this.#idle.values()) for (const c of list) c.close()
    this.#idle.clear()
  }
}

const key = (a: EdgeAddress) => `${a.edgeId}@${a.host}:${a.port}`
