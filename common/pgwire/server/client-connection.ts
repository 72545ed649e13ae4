/**
 * One client's connection to the gateway's PostgreSQL server (server.ts), from its first byte to
 * its close: the startup phase (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage), SCRAM
 * authentication, opening its session, then each frontend message handed to the session, one at
 * a time and in order. A client that waits is held to the session's idle limit, if it has one.
 *
 * Malformed or out-of-order messages end only this connection, with a FATAL 08P01.
 */
import { randomInt } from 'node:crypto'
import type net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import { errorMeta } from '../../log.js'
import { PgError, protocolViolation, toPgError } from '../../errors/pg-error.js'
import { SqlState } from '../../errors/sqlstate.js'
import { MessageBuffer, PROTOCOL_VERSION_3_0, decodeFrontendMessage, decodeStartupFrame, errorFromPgError, startupMessage, BackendEncoder, type FrontendMessage } from '../index.js'
import { startAuthentication, type Authenticator } from './authenticate.js'
import { SpillingSink } from './reply-spill.js'
import { Responder } from './responder.js'
import type { WireServer } from './server.js'
import type { SessionHandler } from './session-handler.js'

/** Ends the connection with `e` as a FATAL ErrorResponse. */
export const fatal = (socket: Duplex, e: PgError) => {
  socket.end(new BackendEncoder().errorResponse({ ...errorFromPgError(e), severity: 'FATAL' }).take())
}

type Phase = 'startup' | 'auth' | 'opening' | 'ready' | 'closed'

export class ClientConnection {
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
        terminate: (e) => this.#fail(e),
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
