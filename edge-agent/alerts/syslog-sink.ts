/**
 * Syslog over one long-lived TCP or TLS connection, one octet-counted RFC 5424 frame per alert.
 *
 * An alert counts as delivered once its frame is handed to the kernel. Syslog has no
 * acknowledgement (RFC 5424 §8.5), so a frame written just before the collector's connection dies
 * can be lost without our knowing. To narrow that, the socket is read (collectors send nothing),
 * and when the collector closes its side the connection is dropped, so the next alert opens a
 * fresh one instead of being written into a closing socket.
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { hostname } from 'node:os'
import tls from 'node:tls'
import type { FiredAlert } from './alert.js'
import type { SyslogSinkConfig } from './alert-config.js'
import { DeliveryError, type AlertSink } from './sink.js'
import { alertToSyslog, octetCountedFrame, type SyslogSenderIdentity } from './syslog-message.js'

export class SyslogSink implements AlertSink {
  readonly type = 'syslog'
  readonly #who: SyslogSenderIdentity
  readonly #tls: tls.ConnectionOptions | undefined
  #socket: net.Socket | undefined
  #connecting: Promise<net.Socket> | undefined

  /** Reads the TLS files now, so a missing CA stops the agent at start rather than failing every send. */
  constructor(
    readonly name: string,
    readonly config: SyslogSinkConfig,
    host: string = hostname(),
  ) {
    this.#who = { facility: config.facility, hostname: host, appName: config.app_name, procId: String(process.pid), sdId: config.sd_id, bom: config.bom }
    const t = config.tls
    if (t) {
      const files = t === true ? {} : t
      const serverName = files.server_name ?? (net.isIP(config.host) ? undefined : config.host)
      this.#tls = {
        host: config.host,
        port: config.port,
        servername: serverName,
        ca: files.ca ? readFileSync(files.ca) : undefined,
        cert: files.cert ? readFileSync(files.cert) : undefined,
        key: files.key ? readFileSync(files.key) : undefined,
      }
    }
  }

  /** Whether a connection to the collector is open (the next send reuses it). */
  get connected(): boolean {
    const s = this.#socket
    return s !== undefined && !s.destroyed && s.writable
  }

  async send(alert: FiredAlert): Promise<void> {
    const frame = octetCountedFrame(alertToSyslog(alert, this.#who))
    const socket = await this.#connect()
    await new Promise<void>((resolve, reject) => {
      // A collector that stops reading fills the socket buffer and the callback never comes.
      const timer = setTimeout(() => socket.destroy(new Error(`frame not written within ${this.config.timeout} ms`)), this.config.timeout)
      socket.write(frame, (err) => {
        clearTimeout(timer)
        if (err) reject(new DeliveryError(`syslog ${this.#where()}: ${err.message}`, 'transient', undefined, { cause: err }))
        else resolve()
      })
    })
  }

  #where(): string {
    return `${this.#tls ? 'tls' : 'tcp'}://${this.config.host}:${this.config.port}`
  }

  #connect(): Promise<net.Socket> {
    if (this.connected) return Promise.resolve(this.#socket!)
    this.#connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer)
        s.off('error', onError)
        s.on('error', () => {}) // a later failure shows as 'close' and as the failed write
        s.on('end', () => s.destroy())
        s.on('close', () => {
          if (this.#socket === s) this.#socket = undefined
        })
        s.setKeepAlive(true, 60_000)
        s.setNoDelay(true)
        s.resume()
        this.#socket = s
        resolve(s)
      }
      const s = this.#tls ? tls.connect(this.#tls, onReady) : net.connect({ host: this.config.host, port: this.config.port }, onReady)
      const onError = (e: Error) => {
        clearTimeout(timer)
        s.on('error', () => {})
        s.destroy()
        const code = (e as { code?: string }).code
        reject(new DeliveryError(`syslog ${this.#where()}: ${code ?? e.message}`, 'transient', undefined, { cause: e }))
      }
      const timer = setTimeout(() => onError(new Error(`not connected within ${this.config.timeout} ms`)), this.config.timeout)
      s.once('error', onError)
    }).finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  close(): void {
    this.#socket?.destroy()
    this.#socket = undefined
  }
}
