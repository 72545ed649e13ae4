/**
 * A KubeArmor-protocol event source: a gRPC server implementing feeder.LogService exactly as a
 * KubeArmor daemon or relay serves it (the Filter gate, the nonce HealthCheck, a bounded
 * per-client queue that drops when full), fed by the event generator at a configurable rate.
 * It is what KubeArmor would send, for tests and the demo; it is not KubeArmor.
 */
import { readFileSync } from 'node:fs'
import grpc from '@grpc/grpc-js'
import protoLoader from '@grpc/proto-loader'
import { LOADER_OPTIONS, PROTO_PATH } from '../edge-agent/ingest/kubearmor-proto.js'
import { EventGenerator, type Event, type GeneratedTable, type GeneratorOptions } from './generator.js'
import { suffix, withoutRestamped } from './fast-encoder.js'

export interface EventSourceOptions extends GeneratorOptions {
  readonly host?: string
  /** 0 picks a free port. */
  readonly port?: number
  /** Events per second, alerts and logs together (0 = paused). */
  readonly rate: number
  /** Stop generating after this many events. */
  readonly limit?: number
  /** KubeArmor's per-client, per-stream queue (1000); events beyond it are dropped for that client. */
  readonly queueSize?: number
  /** Serve mTLS as KubeArmor does with tls.enabled: a client certificate signed by `ca` is required. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string }
  /** Microseconds since the epoch for the first event (default: now, then the wall clock). */
  readonly startMicros?: number
  /** With startMicros: microseconds between events (synthetic history). */
  readonly stepMicros?: number
  /**
   * `fast` encodes a pool of generated events once and re-stamps them (time, Seq), for rates
   * beyond what encoding each event from scratch allows; onEvent is not called. Default `exact`.
   */
  readonly mode?: 'exact' | 'fast'
}

export interface EventSourceStats {
  generated: number
  /** Events generated while a client was subscribed to their stream. */
  offered: number
  sent: number
  dropped: number
  clients: number
}

interface Subscriber {
  readonly call: grpc.ServerWritableStream<unknown, Buffer>
  readonly queue: Buffer[]
  waiting: boolean
}

type Serializer = (value: unknown) => Buffer

/**
 * Messages buffered in the gRPC stream before the source waits for it to drain: about what
 * grpc-go (KubeArmor's server) keeps in flight before Send blocks, given the 16 MiB HTTP/2 window
 * the edge agent advertises (around 20,000 events of 700 bytes).
 */
const TRANSPORT_BUFFER = 16_384

export class KubeArmorEventSource {
  readonly stats: EventSourceStats = { generated: 0, offered: 0, sent: 0, dropped: 0, clients: 0 }
  /** Called with every generated event, before it is queued to subscribers. */
  onEvent: ((table: GeneratedTable, event: Event) => void) | undefined
  readonly #opts: EventSourceOptions
  readonly #gen: EventGenerator
  readonly #subs: Record<GeneratedTable, Set<Subscriber>> = { alerts: new Set(), logs: new Set() }
  readonly #serialize: Record<GeneratedTable, Serializer>
  readonly #definition: grpc.ServiceDefinition
  #server: grpc.Server | undefined
  #timer: NodeJS.Timeout | undefined
  #rate: number
  #emitted = 0
  #t0 = 0
  #port = 0
  #virtualMicros: number | undefined
  #pool: { table: GeneratedTable; bytes: Buffer }[] | undefined
  #seq: number

  constructor(opts: EventSourceOptions) {
    this.#opts = opts
    this.#rate = opts.rate
    this.#seq = opts.firstSeq ?? 1
    this.#gen = new EventGenerator(opts)
    this.#virtualMicros = opts.startMicros
    const pkg = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS)
    const svc = pkg['feeder.LogService'] as grpc.ServiceDefinition
    this.#serialize = { alerts: svc.WatchAlerts!.responseSerialize as Serializer, logs: svc.WatchLogs!.responseSerialize as Serializer }
    // Each event is encoded once and the same bytes are written to every subscriber.
    const passThrough = (b: Buffer) => b
    this.#definition = {
      ...svc,
      WatchAlerts: { ...svc.WatchAlerts!, responseSerialize: passThrough },
      WatchLogs: { ...svc.WatchLogs!, responseSerialize: passThrough },
    }
  }

  get port(): number {
    return this.#port
  }

  get address(): string {
    return `${this.#opts.host ?? '127.0.0.1'}:${this.#port}`
  }

  get nextSeq(): number {
    return this.#opts.mode === 'fast' ? this.#seq : this.#gen.seq
  }

  async start(): Promise<number> {
    const server = new grpc.Server({ 'grpc.keepalive_time_ms': 1000, 'grpc.keepalive_timeout_ms': 5000 })
    server.addService(this.#definition, {
      HealthCheck: (call: grpc.ServerUnaryCall<{ nonce?: number }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { Retval: call.request.nonce ?? 0 }),
      WatchMessages: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        // KubeArmor pushes daemon messages only with -debug=true; the stream stays open and quiet.
        call.on('cancelled', () => call.end())
      },
      WatchAlerts: (call: grpc.ServerWritableStream<{ Filter?: string }, Buffer>) => this.#subscribe('alerts', call, ['all', 'policy']),
      WatchLogs: (call: grpc.ServerWritableStream<{ Filter?: string }, Buffer>) => this.#subscribe('logs', call, ['all', 'system']),
    })
    const t = this.#opts.tls
    const creds = t
      ? grpc.ServerCredentials.createSsl(readFileSync(t.ca), [{ private_key: readFileSync(t.key), cert_chain: readFileSync(t.cert) }], true)
      : grpc.ServerCredentials.createInsecure()
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.#opts.host ?? '127.0.0.1'}:${this.#port || this.#opts.port || 0}`, creds, (err, port) => (err ? reject(err) : resolve(port))),
    )
    this.#server = server
    // Built now, not by the first tick that sends: building it takes a few hundred ms, and the
    // events falling due meanwhile would then go out in one burst that no transport can absorb.
    if (this.#opts.mode === 'fast') this.#fastPool(Math.round((performance.timeOrigin + performance.now()) * 1000))
    this.#t0 = performance.now()
    this.#emitted = 0
    this.#timer = setInterval(() => this.#tick(), 10)
    return this.#port
  }

  /** The pooled encodings of fast mode (see fast-encoder.ts), built on first use. */
  #fastPool(micros: number): { table: GeneratedTable; bytes: Buffer }[] {
    this.#pool ??= Array.from({ length: 4096 }, () => {
      const g = this.#gen.next(micros)
      return { table: g.table, bytes: this.#serialize[g.table](withoutRestamped(g.event)) }
    })
    return this.#pool
  }

  /** Stops serving (clients see the source disappear); the same port is reused by start(). */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    for (const t of ['alerts', 'logs'] as const) this.#subs[t].clear()
    this.stats.clients = 0
    const server = this.#server
    this.#server = undefined
    server?.forceShutdown()
  }

  setRate(rate: number): void {
    this.#rate = rate
    this.#t0 = performance.now()
    this.#emitted = 0
  }

  #subscribe(table: GeneratedTable, call: grpc.ServerWritableStream<{ Filter?: string }, Buffer>, accepted: string[]): void {
    // KubeArmor's feeder answers a filter it does not accept by returning at once, status OK.
    if (!accepted.includes(call.request.Filter ?? '')) {
      call.end()
      return
    }
    const sub: Subscriber = { call, queue: [], waiting: false }
    this.#subs[table].add(sub)
    this.stats.clients++
    const drop = () => {
      if (this.#subs[table].delete(sub)) this.stats.clients--
    }
    call.on('cancelled', drop)
    call.on('error', drop)
    call.on('close', drop)
  }

  #tick(): void {
    if (this.#rate <= 0) return
    const limit = this.#opts.limit ?? Infinity
    const due = Math.min(Math.floor(((performance.now() - this.#t0) / 1000) * this.#rate) - this.#emitted, limit - this.stats.generated, 50_000)
    for (let i = 0; i < due; i++) this.emit()
    this.#emitted += Math.max(0, due)
    for (const t of ['alerts', 'logs'] as const) for (const s of this.#subs[t]) this.#pump(s)
  }

  /** Generates one event now and queues it to every subscriber of its stream. */
  emit(): void {
    let micros: number
    if (this.#virtualMicros !== undefined) {
      micros = this.#virtualMicros
      this.#virtualMicros += this.#opts.stepMicros ?? 1000
    } else micros = Math.round((performance.timeOrigin + performance.now()) * 1000)
    let table: GeneratedTable
    let bytes: Buffer | undefined
    if (this.#opts.mode === 'fast') {
      const pool = this.#fastPool(micros)
      const p = pool[this.#seq % pool.length]!
      table = p.table
      if (this.#subs[table].size > 0) bytes = Buffer.concat([p.bytes, suffix(table, this.#seq, micros)])
      this.#seq++
    } else {
      const g = this.#gen.next(micros)
      table = g.table
      this.onEvent?.(table, g.event)
      if (this.#subs[table].size > 0) bytes = this.#serialize[table](g.event)
    }
    this.stats.generated++
    const subs = this.#subs[table]
    if (bytes === undefined) return
    this.stats.offered++
    const max = this.#opts.queueSize ?? 1000
    for (const s of subs) {
      // KubeArmor's sender goroutine drains the queue into the transport while events are
      // produced; a tick that generates many events at once must do the same before dropping.
      if (s.queue.length >= max) this.#pump(s)
      if (s.queue.length >= max) this.stats.dropped++
      else s.queue.push(bytes)
    }
  }

  /**
   * Sends given events (in the JSON form `karmor logs --json` prints) to every subscriber of
   * `table`'s stream, as KubeArmor would send them. Used to push real sample events through.
   */
  replay(table: GeneratedTable, events: readonly Event[]): void {
    for (const ev of events) {
      const bytes = this.#serialize[table](ev)
      for (const s of this.#subs[table]) s.queue.push(bytes)
    }
    for (const s of this.#subs[table]) this.#pump(s)
  }

  /** Subscribers of a stream (tests wait for the agent to subscribe). */
  subscribers(table: GeneratedTable): number {
    return this.#subs[table].size
  }

  #pump(s: Subscriber): void {
    if (s.waiting) return
    // grpc-go's Send (KubeArmor's side) hands messages to the transport until the client's HTTP/2
    // window is full; grpc-js signals backpressure after 16 buffered messages. Writing on up to
    // TRANSPORT_BUFFER buffered messages models Go's behaviour; the subscriber queue (KubeArmor's
    // 1000) then fills only when the client falls behind for longer than its window covers.
    while (s.queue.length > 0 && s.call.writableLength < TRANSPORT_BUFFER) {
      s.call.write(s.queue.shift()!)
      this.stats.sent++
    }
    if (s.queue.length > 0) {
      s.waiting = true
      s.call.once('drain', () => {
        s.waiting = false
        this.#pump(s)
      })
    }
  }
}
