/**
 * The gateway's PostgreSQL server: accepts TCP connections, negotiates TLS (SSLRequest),
 * GSSAPI encryption (refused with 'N') and cancel requests, authenticates with SCRAM-SHA-256
 * through pg-gateway, then feeds each decoded frontend message to the client's session.
 *
 * Malformed or out-of-order messages end only the connection that sent them, with 08P01.
 * @see https://www.postgresql.org/docs/current/protocol-flow.html
 */
import { randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import type { Logger } from '../../log.js'
import { errorMeta } from '../../log.js'
import { PgError, protocolViolation, toPgError } from '../../errors/pg-error.js'
import { SqlState } from '../../errors/sqlstate.js'
import { MessageBuffer, PROTOCOL_VERSION_3_0, decodeFrontendMessage, decodeStartupFrame, errorFromPgError, startupMessage, BackendEncoder, type FrontendMessage } from '../index.js'
import { startAuthentication, type Authenticator } from './authenticate.js'
import { SpillingSink, type SpillOptions } from './reply-spill.js'
import { Responder } from './responder.js'
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

const fatal = (socket: Duplex, e: PgError) => {
  socket.end(new BackendEncoder().errorResponse({ ...errorFromPgError(e), severity: 'FATAL' }).take())
}

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

type Phase = 'startup' | 'auth' | 'opening' | 'ready' | 'closed'

class ClientConnection {
  readonly #server: WireServer
  readonly #connId: number
  #socket: Duplex
  #frames = new MessageBuffer({ startup: true })
  #phase: Phase = 'startup'
  #auth: Authenticator | undefined
  #startupParams = new Map<string, string>()
  #tls = false
  #session: SessionHandler | undefined
  #out: Responder | undefined
  readonly #pid: number
  readonly #secret = randomInt(1, 2 ** 31 - 1)
  #queue: Buffer[] = []
  #working = false
  readonly #remote: string
  #authTimer: NodeJS.Timeout | undefined
  #idleTimer: NodeJS.Timeout | undefined

  constructor(socket: net.Socket, connId: number, server: WireServer) {
    this.#socket = socket
    this.#connId = connId
    this.#server = server
    this.#pid = connId
    this.#remote = `${socket.remoteAddress}:${socket.remotePort}`
  }

  run(): void {
    this.#authTimer = setTimeout(() => this.#fail(new PgError(SqlState.ProtocolViolation, 'canceling authentication due to timeout')), this.#server.options.authTimeoutMs ?? 60_000)
    this.#authTimer.unref()
    this.#attach(this.#socket)
  }

  #attach(stream: Duplex): void {
    stream.on('data', (chunk: Buffer) => this.#onData(chunk))
    stream.on('close', () => void this.#closed())
    stream.on('error', () => stream.destroy())
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === 'closed') return
    try {
      this.#frames.push(chunk)
      for (let f = this.#frames.nextFrame(); f; f = (this.#phase as Phase) === 'closed' ? undefined : this.#frames.nextFrame()) this.#onFrame(f)
    } catch (e) {
      this.#fail(toPgError(e))
    }
  }

  #onFrame(frame: Buffer): void {
    switch (this.#phase) {
      case 'startup':
        return this.#onStartupFrame(frame)
      case 'auth':
        if (frame[0] !== 0x70) throw protocolViolation(`expected password response, got message type ${frame[0]}`)
        this.#auth!.push(frame)
        return
      case 'opening':
      case 'ready':
        clearTimeout(this.#idleTimer)
        this.#queue.push(frame)
        if (this.#queue.length > 1000) this.#socket.pause() // a client pipelining faster than we answer
        void this.#work()
        return
      case 'closed':
        return
    }
  }

  #onStartupFrame(frame: Buffer): void {
    const opts = this.#server.options
    const msg = decodeStartupFrame(frame)
    switch (msg.type) {
      case 'SSLRequest': {
        const ctx = this.#server.secureContext
        if (!ctx || this.#tls) {
          this.#socket.write('N')
          return
        }
        if (this.#frames.bufferedBytes > 0) throw protocolViolation('received unencrypted data after SSL request')
        this.#socket.write('S')
        const plain = this.#socket
        plain.removeAllListeners('data')
        const secure = new tls.TLSSocket(plain as net.Socket, { isServer: true, secureContext: ctx })
        this.#socket = secure
        this.#tls = true
        this.#frames = new MessageBuffer({ startup: true })
        this.#attach(secure)
        return
      }
      case 'GSSENCRequest':
        this.#socket.write('N')
        return
      case 'CancelRequest':
        this.#server.cancel(msg.pid, msg.secret)
        this.#phase = 'closed'
        this.#socket.end()
        return
      case 'StartupMessage': {
        if (opts.tls?.required && !this.#tls) throw new PgError(SqlState.InvalidAuthorizationSpecification, 'SSL connection is required', { hint: 'Connect with sslmode=require.' })
        const params = new Map([...msg.params].filter(([k]) => !k.startsWith('_pq_.')))
        const unrecognized = [...msg.params.keys()].filter((k) => k.startsWith('_pq_.'))
        if ((msg.protocolVersion & 0xffff) > 0 || unrecognized.length > 0) {
          // A newer client (libpq 18 asks for 3.2): say we speak 3.0, as a 3.0 server does.
          this.#socket.write(new BackendEncoder().negotiateProtocolVersion(0, unrecognized).take())
        }
        const user = params.get('user')
        if (!user) throw new PgError(SqlState.InvalidAuthorizationSpecification, 'no PostgreSQL user name specified in startup packet')
        if (params.has('replication') && params.get('replication') !== 'false' && params.get('replication') !== 'off') {
          throw new PgError(SqlState.FeatureNotSupported, 'replication connections are not supported by Fedgres')
        }
        this.#startupParams = params
        this.#frames.startupPhase = false
        this.#phase = 'auth'
        this.#auth = startAuthentication(this.#socket, startupMessage(params, PROTOCOL_VERSION_3_0), opts.users)
        void this.#auth.done.then((r) => this.#authenticated(r.ok, r.user))
        return
      }
    }
  }

  async #authenticated(ok: boolean, user: string): Promise<void> {
    clearTimeout(this.#authTimer)
    if (!ok) {
      this.#phase = 'closed'
      this.#socket.end()
      return
    }
    const opts = this.#server.options
    const database = this.#startupParams.get('database') ?? user
    if (database !== opts.database) {
      this.#fail(new PgError(SqlState.InvalidCatalogName, `database "${database}" does not exist`))
      return
    }
    this.#phase = 'opening'
    try {
      this.#session = await opts.createSession({
        connId: this.#connId,
        user,
        startupParams: this.#startupParams,
        pid: this.#pid,
        secret: this.#secret,
        tls: this.#tls,
        remoteAddress: this.#remote,
      })
      const spill = opts.replySpill
      this.#out = new Responder(spill ? new SpillingSink(this.#socket, { ...spill, onError: (e) => this.#server.log.error('reply spill failed; closing the connection', { connId: this.#connId, ...errorMeta(e) }) }) : this.#socket)
      await this.#session.start(this.#out)
      this.#out.enc.backendKeyData(this.#pid, this.#secret)
      this.#out.readyForQuery('I')
      await this.#out.flush()
      this.#server.register(this.#pid, { secret: this.#secret, session: this.#session })
      this.#server.log.debug('session started', { connId: this.#connId, user, tls: this.#tls })
      this.#phase = 'ready'
      void this.#work()
    } catch (e) {
      this.#fail(toPgError(e))
    }
  }

  /** Processes queued messages one at a time, in order. */
  async #work(): Promise<void> {
    if (this.#working || this.#phase !== 'ready') return
    this.#working = true
    try {
      while (this.#queue.length > 0 && this.#phase === 'ready') {
        const frame = this.#queue.shift()!
        if (this.#queue.length < 100) this.#socket.resume()
        let msg: FrontendMessage
        try {
          msg = decodeFrontendMessage(frame)
        } catch (e) {
          const err = toPgError(e)
          if (!this.#session!.malformed || err.code === SqlState.InternalError) throw e
          await this.#session!.malformed(frame[0]!, err, this.#out!)
          continue
        }
        if (msg.type === 'Terminate') {
          await this.#out!.flush()
          this.#phase = 'closed'
          this.#socket.end()
          return
        }
        if (msg.type === 'Unknown') throw protocolViolation(`invalid frontend message type ${msg.code}`)
        await this.#session!.handle(msg, this.#out!)
      }
    } catch (e) {
      const err = toPgError(e)
      if (err.code === SqlState.InternalError) this.#server.log.error('session failed', { connId: this.#connId, ...errorMeta(err.cause ?? err) })
      this.#fail(err)
    } finally {
      this.#working = false
    }
    if (this.#phase === 'ready' && this.#queue.length === 0) void this.#armIdle()
  }

  /** Waiting for the client: the session's idle limit, if it has one, starts counting. */
  async #armIdle(): Promise<void> {
    const limit = await this.#session?.idleLimit?.().catch(() => undefined)
    if (!limit || !(limit.ms > 0) || this.#queue.length > 0 || this.#working || this.#phase !== 'ready') return
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => this.#fail(limit.error), limit.ms)
    this.#idleTimer.unref()
  }

  /** The server is stopping: FATAL 57P01, as PostgreSQL's smart-then-fast shutdown tells clients. */
  shutdown(): void {
    this.#fail(new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command'))
  }

  #fail(e: PgError): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    clearTimeout(this.#authTimer)
    clearTimeout(this.#idleTimer)
    this.#auth?.abort()
    try {
      this.#out?.enc.take() // drop half-built replies
      fatal(this.#socket, e)
    } catch {
      this.#socket.destroy()
    }
    setTimeout(() => this.#socket.destroy(), 5000).unref()
  }

  async #closed(): Promise<void> {
    this.#phase = 'closed'
    clearTimeout(this.#authTimer)
    clearTimeout(this.#idleTimer)
    this.#auth?.abort()
    this.#server.unregister(this.#pid)
    await this.#session?.close().catch(() => {})
  }
}
