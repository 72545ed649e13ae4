/**
 * The gateway's PostgreSQL server: accepts TCP connections, negotiates TLS (SSLRequest),
 * GSSAPI encryption (refused with 'N') and cancel requests, authenticates with SCRAM-SHA-256
 * through pg-gateway, then feeds each decoded frontend message to the client's session (one
 * client's part, from its first byte to its close, is client-connection.ts).
 *
 * Malformed or out-of-order messages end only the connection that sent them, with 08P01.
 * @see https://www.postgresql.org/docs/current/protocol-flow.html
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import type { Logger } from '../../log.js'
import { errorMeta } from '../../log.js'
import { PgError } from '../../errors/pg-error.js'
import { SqlState } from '../../errors/sqlstate.js'
import { ClientConnection, fatal } from './client-connection.js'
import type { SpillOptions } from './reply-spill.js'
import type { SessionFactory, SessionHandler } from './session-handler.js'

export interface WireServerOptions {
  readonly host: string
  readonly port: number
  readonly database: string
  /** User name → SCRAM secret (PostgreSQL's format). */
  readonly users: ReadonlyMap<string, string>
  readonly tls?: { readonly cert: string; readonly key: string; readonly required: boolean }
  readonly maxConnections: number
  readonly authTimeoutMs?: number
  readonly createSession: SessionFactory
  readonly log: Logger
  /** Replies beyond this many bytes in memory go to a file until the client reads them (reply-spill.ts). */
  readonly replySpill?: Omit<SpillOptions, 'onError'>
}

interface Live {
  readonly secret: number
  readonly session: SessionHandler
}

/** How long close() lets clients read their shutdown error before cutting them. */
const SHUTDOWN_FLUSH_MS = 500

export class WireServer {
  readonly #opts: WireServerOptions
  readonly #log: Logger
  readonly #server: net.Server
  readonly #live = new Map<number, Live>()
  readonly #sockets = new Set<net.Socket>()
  readonly #conns = new Set<ClientConnection>()
  #secureContext: tls.SecureContext | undefined
  #nextConnId = 1

  constructor(opts: WireServerOptions) {
    this.#opts = opts
    this.#log = opts.log.child({ component: 'wire' })
    if (opts.tls) this.#secureContext = tls.createSecureContext({ cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key), minVersion: 'TLSv1.2' })
    this.#server = net.createServer((socket) => this.#accept(socket))
    this.#server.on('error', (e) => this.#log.error('listener error', errorMeta(e)))
  }

  get connections(): number {
    return this.#sockets.size
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(this.#opts.port, this.#opts.host, () => resolve((this.#server.address() as net.AddressInfo).port))
    })
  }

  async close(): Promise<void> {
    // Stop accepting first, then cut the connected clients: net.Server's close callback only
    // fires once every socket is gone, so awaiting it first would wait on the clients.
    // Clients hear 57P01 as from a PostgreSQL server shutting down; a socket still open a moment
    // later is cut.
    const stopped = new Promise<void>((r) => this.#server.close(() => r()))
    for (const c of this.#conns) c.shutdown()
    const gone = () => this.#sockets.size === 0
    for (let waited = 0; !gone() && waited < SHUTDOWN_FLUSH_MS; waited += 20) await new Promise((r) => setTimeout(r, 20))
    for (const s of this.#sockets) s.destroy()
    await Promise.all([...this.#live.values()].map((l) => l.session.close().catch(() => {})))
    await stopped
  }

  #accept(socket: net.Socket): void {
    socket.setNoDelay(true)
    socket.on('error', () => socket.destroy())
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    if (this.#sockets.size > this.#opts.maxConnections) {
      fatal(socket, new PgError(SqlState.TooManyConnections, 'sorry, too many clients already'))
      return
    }
    const conn = new ClientConnection(socket, this.#nextConnId++, this)
    this.#conns.add(conn)
    socket.once('close', () => this.#conns.delete(conn))
    conn.run()
  }

  // Used by ClientConnection.
  get options(): WireServerOptions {
    return this.#opts
  }
  get log(): Logger {
    return this.#log
  }
  get secureContext(): tls.SecureContext | undefined {
    return this.#secureContext
  }
  register(pid: number, live: Live): void {
    this.#live.set(pid, live)
  }
  unregister(pid: number): void {
    this.#live.delete(pid)
  }
  /** A CancelRequest: acts only when pid and secret match, and never answers (as PostgreSQL). */
  cancel(pid: number, secret: number): void {
    const live = this.#live.get(pid)
    if (live && live.secret === secret) live.session.cancel()
  }
}
