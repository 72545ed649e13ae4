/**
 * Idle connections to edges, reused across statements and sessions. A connection carries no
 * state but the output settings it was opened with, so idle ones are kept per edge and settings.
 */
import { EdgeConnection, type EdgeAddress, type EdgeLogin, type EdgeSettings } from './edge-connection.js'
import { kept } from '../../common/kept.js'

const MAX_IDLE_PER_EDGE = 8

/** Idle connections of one edge and settings. */
type Slot = EdgeConnection[]

export class EdgePool {
  /** By edge address, then by settings (both keys are strings kept with their objects). */
  readonly #idle = new Map<string, Map<string, Slot>>()
  /** The slot each connection goes back to. */
  readonly #slots = new WeakMap<EdgeConnection, Slot>()
  #closed = false

  constructor(
    readonly login: EdgeLogin,
    readonly connectTimeoutMs: number,
  ) {}

  /** An idle connection to `address` opened with `settings`, or a new one, given up after `timeoutMs`. */
  async acquire(address: EdgeAddress, signal?: AbortSignal, settings: EdgeSettings = [], timeoutMs = this.connectTimeoutMs): Promise<EdgeConnection> {
    const idle = this.idle(address, settings)
    if (idle) return idle
    // A connection keeps its own copy of the address (not the caller's object, which may be a
    // whole edge entry of a view).
    const { edgeId, host, port, tls, database } = address
    const c = await EdgeConnection.connect({ edgeId, host, port, tls, database }, this.login, timeoutMs, signal, settings)
    this.#slots.set(c, this.#slot(address, settings))
    return c
  }

  /** An idle connection to `address` opened with `settings`, if there is one. */
  idle(address: EdgeAddress, settings: EdgeSettings = []): EdgeConnection | undefined {
    const slot = this.#slot(address, settings)
    while (slot.length > 0) {
      const c = slot.pop()!
      if (!c.broken) return c
    }
    return undefined
  }

  /** Returns a connection after its batch completed; anything else is closed. */
  release(c: EdgeConnection): void {
    const slot = this.#slots.get(c)
    if (this.#closed || c.broken || c.busy || !slot || slot.length >= MAX_IDLE_PER_EDGE) {
      c.close()
      return
    }
    slot.push(c)
  }

  close(): void {
    this.#closed = true
    for (const bySettings of this.#idle.values()) for (const slot of bySettings.values()) for (const c of slot) c.close()
    this.#idle.clear()
  }

  #slot(address: EdgeAddress, settings: EdgeSettings): Slot {
    const a = kept(addressKeys, address, () => `${address.edgeId}@${address.host}:${address.port}/${address.database ?? ''}`)
    const s = kept(settingsKeys, settings, () => JSON.stringify(settings))
    return kept(kept(this.#idle, a, () => new Map<string, Slot>()), s, () => [])
  }
}

/**
 * Addresses and settings lists are made once per view or session change and reused: their keys
 * are kept with them (a string made once also keeps its hash).
 */
const addressKeys = new WeakMap<object, string>()
const settingsKeys = new WeakMap<object, string>()
