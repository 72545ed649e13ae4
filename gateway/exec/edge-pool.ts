/**
 * Idle connections to edges, reused across statements and sessions. A connection carries no
 * state but the output settings it was opened with, so idle ones are kept per edge and settings.
 * An edge keeps at most MAX_IDLE_PER_EDGE idle connections whatever their settings: sessions
 * with many distinct settings (time zones, date styles) would otherwise leave connections open on
 * every edge until its connection limit refuses everyone. The one idle the longest goes first.
 * How many it holds open to an edge in all is capped too (edge-slots.ts).
 */
import { EdgeConnection, EdgeUnreachable, type EdgeAddress, type EdgeLogin, type EdgeSettings } from './edge-connection.js'
import { EdgeSlots } from './edge-slots.js'
import { kept } from '../../common/kept.js'

export const MAX_IDLE_PER_EDGE = 8
/** Connections a gateway holds open to one edge, by default: three gateways stay under an edge's 200. */
export const MAX_OPEN_PER_EDGE = 64

/** Idle connections of one edge: by settings, and all of them in the order they came back. */
interface EdgeIdle {
  readonly bySettings: Map<string, EdgeConnection[]>
  readonly order: Set<EdgeConnection>
  readonly slots: EdgeSlots
}

/** Where a connection goes back to: its edge and its settings' key. */
interface Home {
  readonly edge: EdgeIdle
  readonly settings: string
}

/** The pool's connections over all edges (for /metrics). */
export interface EdgeConnectionStats {
  readonly open: number
  readonly idle: number
  readonly waiting: number
  /** Statements that waited for a connection since the pool began. */
  readonly waits: number
}

export class EdgePool {
  /** By edge address (a string kept with its object). */
  readonly #idle = new Map<string, EdgeIdle>()
  readonly #homes = new WeakMap<EdgeConnection, Home>()
  /** Connections that hold a slot of their edge, until they close. */
  readonly #counted = new WeakSet<EdgeConnection>()
  #closed = false
  #waits = 0

  constructor(
    readonly login: EdgeLogin,
    readonly connectTimeoutMs: number,
    readonly maxOpenPerEdge = MAX_OPEN_PER_EDGE,
  ) {}

  /**
   * An idle connection to `address` opened with `settings`, or a new one, given up after
   * `timeoutMs`. With all the edge's slots taken, waits for one (edge-slots.ts).
   */
  async acquire(address: EdgeAddress, signal?: AbortSignal, settings: EdgeSettings = [], timeoutMs = this.connectTimeoutMs): Promise<EdgeConnection> {
    const idle = this.idle(address, settings)
    if (idle) return idle
    if (this.#closed) throw new EdgeUnreachable('the gateway is shutting down')
    const home = this.#home(address, settings)
    const { slots, order } = home.edge
    // An idle connection opened with other settings gives its slot up.
    if (slots.full && order.size > 0) this.#drop(home.edge, order.values().next().value!)
    if (slots.full) {
      this.#waits++
      const handed = await slots.wait(home.settings, timeoutMs, signal)
      if (handed) return handed
    } else slots.open++
    // A connection keeps its own copy of the address (not the caller's object, which may be a
    // whole edge entry of a view).
    const { edgeId, host, port, tls, database } = address
    let c: EdgeConnection
    try {
      c = await EdgeConnection.connect({ edgeId, host, port, tls, database }, this.login, timeoutMs, signal, settings)
    } catch (e) {
      slots.freed()
      throw e
    }
    this.#homes.set(c, home)
    this.#counted.add(c)
    c.onGone(() => this.#uncount(c))
    return c
  }

  /** An idle connection to `address` opened with `settings`, if there is one. */
  idle(address: EdgeAddress, settings: EdgeSettings = []): EdgeConnection | undefined {
    const { edge, settings: key } = this.#home(address, settings)
    const list = edge.bySettings.get(key)
    let found: EdgeConnection | undefined
    while (list && list.length > 0 && !found) {
      const c = list.pop()!
      edge.order.delete(c)
      if (!c.broken) found = c
    }
    if (list?.length === 0) edge.bySettings.delete(key)
    return found
  }

  /** Returns a connection after its batch completed; anything else is closed. */
  release(c: EdgeConnection): void {
    const home = this.#homes.get(c)
    if (this.#closed || c.broken || c.busy || !home) {
      this.#close(c)
      return
    }
    const { edge } = home
    if (edge.slots.handOver(c, home.settings)) return
    // A statement waits for a slot, with other settings: this connection makes room.
    if (edge.slots.waiting > 0) {
      this.#close(c)
      return
    }
    while (edge.order.size >= MAX_IDLE_PER_EDGE) this.#drop(edge, edge.order.values().next().value!)
    kept(edge.bySettings, home.settings, () => []).push(c)
    edge.order.add(c)
  }

  /** Idle connections of `address`, all settings together. */
  idleCount(address: EdgeAddress): number {
    return this.#edge(address).order.size
  }

  close(): void {
    this.#closed = true
    for (const edge of this.#idle.values()) {
      for (const c of edge.order) this.#close(c)
      edge.slots.closeAll()
    }
    this.#idle.clear()
  }

  stats(): EdgeConnectionStats {
    let open = 0
    let idle = 0
    let waiting = 0
    for (const edge of this.#idle.values()) {
      open += edge.slots.open
      idle += edge.order.size
      waiting += edge.slots.waiting
    }
    return { open, idle, waiting, waits: this.#waits }
  }

  /** Connections open or opening to `address`. */
  openCount(address: EdgeAddress): number {
    return this.#edge(address).slots.open
  }

  #close(c: EdgeConnection): void {
    c.close()
    this.#uncount(c)
  }

  /** `c` closed: its slot is free (once, whether the pool closed it or the edge did). */
  #uncount(c: EdgeConnection): void {
    if (this.#counted.delete(c)) this.#homes.get(c)?.edge.slots.freed()
  }

  /** Closes the idle connection `c` of `edge`. */
  #drop(edge: EdgeIdle, c: EdgeConnection): void {
    edge.order.delete(c)
    const key = this.#homes.get(c)!.settings
    const list = edge.bySettings.get(key)
    const at = list?.indexOf(c) ?? -1
    if (list && at >= 0) list.splice(at, 1)
    if (list?.length === 0) edge.bySettings.delete(key)
    this.#close(c)
  }

  #home(address: EdgeAddress, settings: EdgeSettings): Home {
    return { edge: this.#edge(address), settings: kept(settingsKeys, settings, () => JSON.stringify(settings)) }
  }

  #edge(address: EdgeAddress): EdgeIdle {
    const a = kept(addressKeys, address, () => `${address.edgeId}@${address.host}:${address.port}/${address.database ?? ''}`)
    return kept(this.#idle, a, () => ({ bySettings: new Map(), order: new Set(), slots: new EdgeSlots(address.edgeId, this.maxOpenPerEdge) }))
  }
}

/**
 * Addresses and settings lists are made once per view or session change and reused: their keys
 * are kept with them (a string made once also keeps its hash).
 */
const addressKeys = new WeakMap<object, string>()
const settingsKeys = new WeakMap<object, string>()
