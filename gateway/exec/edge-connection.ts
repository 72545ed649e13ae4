/**
 * The gateway's client connection to one edge: startup, optional TLS, SCRAM-SHA-256, then
 * batches of extended-protocol messages ending in Sync. Replies are split into frames and handed
 * over as they arrive, so rows stream while the edge still works.
 *
 * A connection is opened with the output settings its statements need (TimeZone, DateStyle, ...)
 * in the startup packet, as libpq sends options. The edge confirms them in ParameterStatus; a
 * connection whose edge did not (an older edge agent) is marked, and its batches set them first.
 */
import net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { BackendCode, FrontendEncoder, MessageBuffer, cancelRequest, decodeBackendMessage, sslRequest, startupMessage } from '../../common/pgwire/index.js'
import { ScramClient } from '../../common/scram.js'
import { ConnectionStatements } from './edge-statements.js'

export interface EdgeAddress {
  readonly edgeId: string
  readonly host: string
  readonly port: number
  readonly tls: boolean
  readonly database?: string
}

/** Session settings a connection is opened with, as [name, value] pairs. */
export type EdgeSettings = readonly (readonly [string, string])[]

/** The settings an edge reports in ParameterStatus: the ones a connection can confirm. */
const REPORTED = ['TimeZone', 'DateStyle', 'IntervalStyle']

export interface EdgeLogin {
  readonly user: string
  readonly password: string
  readonly database: string
  /** PEM CA that edge certificates must chain to; without it TLS encrypts but does not verify. */
  readonly ca?: string
}

/** A failure to reach or talk to an edge (not an SQL error the edge reported). */
export class EdgeUnreachable extends Error {}

export class EdgeConnection {
  readonly #socket: Duplex
  readonly #frames = new MessageBuffer({ maxMessageLength: 1 << 30 })
  #onFrame: ((f: Buffer) => void) | undefined
  #onClose: ((e: Error) => void) | undefined
  #pid = 0
  #secret = 0
  broken = false
  busy = false
  /** The edge confirmed the settings the connection was opened with (see REPORTED). */
  settingsConfirmed = false
  /** When bytes last came from the edge (performance.now()), once per chunk rather than per frame. */
  heardAt = 0
  /**
   * Statements prepared on this connection under a name: a statement the gateway sends again is
   * only bound and executed, so the edge skips parsing and planning.
   */
  readonly statements = new ConnectionStatements()

  private constructor(
    socket: Duplex,
    readonly address: EdgeAddress,
    readonly settings: EdgeSettings,
  ) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => this.#data(chunk))
    socket.on('close', () => this.#closed(new EdgeUnreachable(`connection to edge ${address.edgeId} closed`)))
    socket.on('error', (e) => this.#closed(new EdgeUnreachable(`edge ${address.edgeId}: ${e.message}`)))
  }

  #data(chunk: Buffer): void {
    this.heardAt = performance.now()
    try {
      this.#frames.push(chunk)
      for (let f = this.#frames.nextFrame(); f; f = this.#frames.nextFrame()) this.#onFrame?.(f)
    } catch (e) {
      this.#closed(new EdgeUnreachable(`edge ${this.address.edgeId} sent a malformed message: ${(e as Error).message}`))
      this.#socket.destroy()
    }
  }

  #closed(e: Error): void {
    this.broken = true
    const cb = this.#onClose
    this.#onClose = undefined
    cb?.(e)
  }

  static async connect(address: EdgeAddress, login: EdgeLogin, timeoutMs: number, signal?: AbortSignal, settings: EdgeSettings = []): Promise<EdgeConnection> {
    const raw = net.connect({ host: address.host, port: address.port })
    const onAbort = () => raw.destroy(new Error('cancelled'))
    signal?.addEventListener('abort', onAbort, { once: true })
    raw.setNoDelay(true)
    const timer = setTimeout(() => raw.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    try {
      await new Promise<void>((resolve, reject) => {
        raw.once('connect', resolve)
        raw.once('error', reject)
      })
      let socket: Duplex = raw
      if (address.tls) {
        raw.write(sslRequest())
        const answer = await new Promise<Buffer>((resolve, reject) => {
          raw.once('data', resolve)
          raw.once('error', reject)
        })
        if (answer[0] !== 0x53) throw new Error('the edge does not offer TLS')
        const servername = net.isIP(address.host) ? undefined : address.host
        socket = tls.connect({ socket: raw, servername, minVersion: 'TLSv1.2', ...(login.ca ? { ca: login.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }) })
        await new Promise<void>((resolve, reject) => {
          socket.once('secureConnect', resolve)
          socket.once('error', reject)
        })
      }
      const conn = new EdgeConnection(socket, address, settings)
      await conn.#login(login)
      return conn
    } catch (e) {
      raw.destroy()
      throw new EdgeUnreachable(`could not connect to edge ${address.edgeId} at ${address.host}:${address.port}: ${(e as Error).message}`)
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  async #login(login: EdgeLogin): Promise<void> {
    const scram = new ScramClient(login.password)
    const enc = new FrontendEncoder()
    // The edge must prove it knows the gateway's SCRAM secret (SASLFinal) before AuthenticationOk:
    // an endpoint that lets the gateway in without it (trust) is not an edge of this network.
    let verified = false
    const reported = new Map<string, string>()
    // plan_cache_mode: a statement kept prepared is planned for each execution's parameters, as
    // an unnamed one is (a generic plan could be far slower for some values); one without
    // parameters keeps its plan.
    const startup = { user: login.user, database: this.address.database ?? login.database, application_name: 'fedgres-gateway', plan_cache_mode: 'force_custom_plan', ...Object.fromEntries(this.settings) }
    await this.#exchange(startupMessage(startup), (frame, done, fail) => {
      const m = decodeBackendMessage(frame)
      switch (m.type) {
        case 'Authentication':
          if (m.code === 10) this.#socket.write(enc.saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()).take())
          else if (m.code === 11) this.#socket.write(enc.saslResponse(scram.clientFinal(m.data.toString('utf8'))).take())
          else if (m.code === 12) {
            scram.verifyServerFinal(m.data.toString('utf8'))
            verified = true
          } else if (m.code === 0 && !verified) fail(new Error('the edge let the gateway in without SCRAM-SHA-256, so it did not prove who it is; refused'))
          else if (m.code !== 0) fail(new Error(`unsupported authentication request ${m.code}`))
          return
        case 'ParameterStatus':
          reported.set(m.name.toLowerCase(), m.value)
          return
        case 'BackendKeyData':
          this.#pid = m.pid
          this.#secret = m.secret
          return
        case 'ErrorResponse':
          fail(new Error(`${m.fields.code} ${m.fields.message}`))
          return
        case 'ReadyForQuery':
          done()
          return
      }
    })
    const asked = new Map(this.settings.map(([n, v]) => [n.toLowerCase(), v]))
    this.settingsConfirmed = REPORTED.every((n) => !asked.has(n.toLowerCase()) || reported.get(n.toLowerCase()) === asked.get(n.toLowerCase()))
  }

  /** Writes `bytes` and feeds every reply frame to `handle` until it calls done or fail. */
  #exchange(bytes: Buffer, handle: (frame: Buffer, done: () => void, fail: (e: Error) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (e?: Error) => {
        this.#onFrame = undefined
        this.#onClose = undefined
        if (e) reject(e)
        else resolve()
      }
      this.#onClose = (e) => finish(e)
      this.#onFrame = (f) => {
        try {
          handle(f, () => finish(), (e) => finish(e))
        } catch (e) {
          finish(e as Error)
        }
      }
      this.#socket.write(bytes)
    })
  }

  /**
   * Runs a batch ending in Sync; every frame before ReadyForQuery goes to `onFrame`. Resolves at
   * ReadyForQuery; rejects with EdgeUnreachable if the connection fails first.
   */
  run(bytes: Buffer, onFrame: (frame: Buffer) => void): Promise<void> {
    if (this.broken) return Promise.reject(new EdgeUnreachable(`connection to edge ${this.address.edgeId} is closed`))
    this.busy = true
    return this.#exchange(bytes, (f, done) => {
      if (f[0] === BackendCode.ReadyForQuery) {
        this.busy = false
        // A reader that paused the socket may still get the rest of the chunk, ReadyForQuery
        // included: the batch is over, so the connection must not go back to the pool paused.
        this.#socket.resume()
        done()
      } else onFrame(f)
    }).catch((e: unknown) => {
      this.broken = true
      throw e
    })
  }

  pause(): void {
    this.#socket.pause()
  }
  resume(): void {
    this.#socket.resume()
  }

  /** Sends a CancelRequest for whatever this connection runs (best effort, as in libpq). */
  cancel(): void {
    const s = net.connect({ host: this.address.host, port: this.address.port }, () => s.end(cancelRequest(this.#pid, this.#secret)))
    s.on('error', () => s.destroy())
    s.setTimeout(2000, () => s.destroy())
  }

  /** Calls `cb` once the connection's socket has closed, for whatever reason. */
  onGone(cb: () => void): void {
    if (this.#socket.closed) cb()
    else this.#socket.once('close', cb)
  }

  close(): void {
    this.broken = true
    this.#socket.end(new FrontendEncoder().terminate().take())
    this.#socket.destroy()
  }
}

export const edgeError = (edgeId: string, message: string) =>
  new PgError(SqlState.ConnectionFailure, `edge ${edgeId} failed: ${message}`, { hint: 'SET fedgres.partial_results = on to get the rows of the other edges, with a NOTICE naming the missing ones.' })
