/**
 * One KubeArmor source (a daemon on the node, or a relay Service): both event streams,
 * the nonce HealthCheck, and reconnection with jittered exponential backoff.
 *
 * KubeArmor drops events for a client whose queue is full, and never replays, so this class
 * does nothing but hand each event on synchronously; storage happens elsewhere.
 * KubeArmor's server rejects client keepalive pings more frequent than every 5 minutes
 * (GOAWAY too_many_pings), so liveness is checked with the HealthCheck RPC instead.
 */
import { readFileSync } from 'node:fs'
import grpc from '@grpc/grpc-js'
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import type { EventTable } from '../../schema/index.js'
import { METHODS, feederTypes } from './kubearmor-proto.js'

export interface SourceTls {
  /** KubeArmor's CA (ca.crt), client certificate (client.crt) and key (client.key). */
  readonly ca: string
  readonly cert: string
  readonly key: string
  /** Name to verify in the server certificate when it differs from the address's host. */
  readonly serverName?: string
}

export interface SourceConfig {
  /** host:port of a KubeArmor daemon (localhost:32767) or relay (kubearmor.kubearmor.svc:32767). */
  readonly address: string
  readonly tls?: SourceTls
  /** Seconds between HealthCheck probes (default 30). */
  readonly healthIntervalSec?: number
  /** Reconnect backoff bounds in ms (default 250 .. 30000). */
  readonly backoffMinMs?: number
  readonly backoffMaxMs?: number
}

export type SourceState = 'connecting' | 'connected' | 'backoff' | 'stopped'

export interface SourceStats {
  state: SourceState
  connectedSince: Date | null
  /** Date.now() of the last event, 0 before the first. */
  lastEventMs: number
  alerts: number
  logs: number
  reconnects: number
  throttleNotices: number
  lastError: string | null
}

/** At least this long, so KubeArmor's 5-minute ping policy is never violated. */
export const KEEPALIVE_TIME_MS = 6 * 60_000

/** The HTTP/2 receive window for KubeArmor's streams (16 MiB: about 20,000 events in flight). */
export const FLOW_CONTROL_WINDOW = 16 << 20

/** Receives each event as the protobuf bytes of a feeder.Alert or feeder.Log. */
export type EventSink = (table: EventTable, message: Buffer) => void

export class KubeArmorClient {
  readonly stats: SourceStats = {
    state: 'stopped',
    connectedSince: null,
    lastEventMs: 0,
    alerts: 0,
    logs: 0,
    reconnects: 0,
    throttleNotices: 0,
    lastError: null,
  }
  readonly #cfg: SourceConfig
  readonly #sink: EventSink
  readonly #log: Logger
  #client: grpc.Client | undefined
  #streams: grpc.ClientReadableStream<Buffer>[] = []
  #attempt = 0
  #timer: NodeJS.Timeout | undefined
  #healthTimer: NodeJS.Timeout | undefined
  #generation = 0
  #stopped = true

  constructor(cfg: SourceConfig, sink: EventSink, log: Logger) {
    this.#cfg = cfg
    this.#sink = sink
    this.#log = log.child({ component: 'ingest', source: cfg.address })
  }

  get address(): string {
    return this.#cfg.address
  }

  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#connect()
  }

  stop(): void {
    this.#stopped = true
    this.#teardown()
    this.stats.state = 'stopped'
    this.stats.connectedSince = null
  }

  #credentials(): grpc.ChannelCredentials {
    const t = this.#cfg.tls
    if (!t) return grpc.credentials.createInsecure()
    return grpc.credentials.createSsl(readFileSync(t.ca), readFileSync(t.key), readFileSync(t.cert))
  }

  #connect(): void {
    const gen = ++this.#generation
    this.stats.state = 'connecting'
    const options: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.enable_retries': 0,
      // KubeArmor drops events once a client's 1000-event queue is full, and the default 64 KiB
      // HTTP/2 window (about 90 events) capped delivery near 18k events/s on loopback: a window
      // update per 90 events. A deep receive window lets KubeArmor write without waiting on us.
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
    }
    if (this.#cfg.tls?.serverName) options['grpc.ssl_target_name_override'] = this.#cfg.tls.serverName
    let client: grpc.Client
    try {
      client = new grpc.Client(this.#cfg.address, this.#credentials(), options)
    } catch (e) {
      this.#fail(gen, e)
      return
    }
    this.#client = client
    const types = feederTypes()
    const request = (filter: string) => Buffer.from(types.RequestMessage.encode({ Filter: filter }).finish())
    const open = (method: 'WatchAlerts' | 'WatchLogs', filter: string, table: EventTable) => {
      // Events stay in their protobuf bytes: the agent maps them to rows straight from there.
      const call = client.makeServerStreamRequest<Buffer, Buffer>(METHODS[method], (b: Buffer) => b, (b: Buffer) => b, request(filter))
      call.on('data', (bytes: Buffer) => {
        if (gen !== this.#generation) return
        this.stats.lastEventMs = Date.now()
        if (table === 'alerts') this.stats.alerts++
        else this.stats.logs++
        this.#sink(table, bytes)
      })
      call.on('error', (e) => this.#fail(gen, e))
      // A stream KubeArmor ends cleanly at once means it refused the filter; either way, reconnect.
      call.on('end', () => this.#fail(gen, new Error(`${method} stream ended by the server`)))
      return call
    }
    this.#streams = [open('WatchAlerts', 'policy', 'alerts'), open('WatchLogs', 'system', 'logs')]
    this.#healthCheck(gen, true)
  }

  #healthCheck(gen: number, first: boolean): void {
    const types = feederTypes()
    const nonce = 1 + Math.floor(Math.random() * 0x7ffffffe)
    this.#client!.makeUnaryRequest<Buffer, { Retval?: number }>(
      METHODS.HealthCheck,
      (b: Buffer) => b,
      (buf: Buffer) => types.ReplyMessage.decode(buf) as unknown as { Retval?: number },
      Buffer.from(types.NonceMessage.encode({ nonce }).finish()),
      { deadline: Date.now() + 10_000 },
      (err, reply) => {
        if (gen !== this.#generation) return
        if (err) return this.#fail(gen, err)
        if ((reply?.Retval ?? 0) !== nonce) return this.#fail(gen, new Error(`HealthCheck answered ${reply?.Retval} for nonce ${nonce}`))
        if (first) {
          this.#attempt = 0
          this.stats.state = 'connected'
          this.stats.connectedSince = new Date()
          this.stats.lastError = null
          this.#log.info('source connected')
        }
        this.#healthTimer = setTimeout(() => this.#healthCheck(gen, false), (this.#cfg.healthIntervalSec ?? 30) * 1000)
        this.#healthTimer.unref()
      },
    )
  }

  #fail(gen: number, e: unknown): void {
    if (gen !== this.#generation || this.#stopped) return
    this.#generation++ // ignore the remaining callbacks of this connection
    const message = e instanceof Error ? e.message : String(e)
    this.stats.lastError = message
    const wasConnected = this.stats.state === 'connected'
    this.#teardown()
    this.stats.state = 'backoff'
    this.stats.connectedSince = null
    const min = this.#cfg.backoffMinMs ?? 250
    const max = this.#cfg.backoffMaxMs ?? 30_000
    // Full jitter: a fleet of agents that lost the same relay does not reconnect in lockstep.
    const ceiling = Math.min(max, min * 2 ** this.#attempt++)
    const delay = min / 2 + Math.random() * (ceiling - min / 2)
    if (wasConnected) this.#log.warn('source disconnected', { retryInMs: Math.round(delay), ...errorMeta(e) })
    else this.#log.info('source unavailable', { retryInMs: Math.round(delay), error: message })
    this.#timer = setTimeout(() => {
      if (this.#stopped) return
      this.stats.reconnects++
      this.#connect()
    }, delay)
  }

  #teardown(): void {
    clearTimeout(this.#timer)
    clearTimeout(this.#healthTimer)
    for (const s of this.#streams) {
      s.removeAllListeners('data')
      s.on('error', () => {})
      s.cancel()
    }
    this.#streams = []
    this.#client?.close()
    this.#client = undefined
  }
}
