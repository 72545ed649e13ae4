/**
 * Idle connections to edges, reused across statements and sessions. A connection carries no
 * state but the output settings it was opened with, so idle ones are kept per edge and settings.
 */
import { EdgeConnection, type EdgeAddress, type EdgeLogin, type EdgeSettings } from './edge-connection.js'

const MAX_IDLE_PER_EDGE = 8

export class EdgePool {
  readonly #idle = new Map<string, EdgeConnection[]>()
  #closed = false

  constructor(
    readonly login: EdgeLogin,
    readonly connectTimeoutMs: number,
  ) {}

  /** An idle connection to `address` opened with `settings`, or a new one. */
  async acquire(address: EdgeAddress, signal?: AbortSignal, settings: EdgeSettings = []): Promise<EdgeConnection> {
    return this.idle(address, settings) ?? EdgeConnection.connect(address, this.login, this.connectTimeoutMs, signal, settings)
  }

  /** An idle connection to `address` opened with `settings`, if there is one. */
  idle(address: EdgeAddress, settings: EdgeSettings = []): EdgeConnection | undefined {
    const list = this.#idle.get(key(address, settings))
    while (list && list.length > 0) {
      const c = list.pop()!
      if (!c.broken) return c
    }
    return undefined
  }

  /** Returns a connection after its batch completed; anything else is closed. */
  release(c: EdgeConnection): void {
    if (this.#closed || c.broken || c.busy) {
      c.close()
      return
    }
    const k = key(c.address, c.settings)
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

/** Settings lists are built once per session change and reused: their key part is kept with them. */
const settingsKeys = new WeakMap<EdgeSettings, string>()

function key(a: EdgeAddress, settings: EdgeSettings): string {
  let s = settingsKeys.get(settings)
  if (s === undefined) settingsKeys.set(settings, (s = JSON.stringify(settings)))
  return `${a.edgeId}@${a.host}:${a.port}/${a.database ?? ''}${s}`
}
