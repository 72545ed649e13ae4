/**
 * The main thread's handle on the shadow catalog worker: a FIFO of protocol exchanges, each with
 * a timeout. Up to WINDOW exchanges are handed to the worker at once (it runs them one after the
 * other, in order), so it never idles waiting for the next one to cross threads. Cancelling (or
 * timing out) the running exchange ends the worker and starts a fresh one from the image; the
 * exchanges sent behind it had not started, and are sent again there.
 *
 * A restart stalls every session's catalog work, and the partial-aggregate and gather tiers'
 * last step, for about a second. So a cancelled exchange (a CancelRequest, or the session's
 * statement_timeout) is answered with 57014 at once, and the engine is let finish it for up to
 * ABANDON_GRACE_MS, its reply dropped, before it is restarted. Dashboards cancel superseded
 * queries at every refresh; most are done within the grace.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { Logger } from '../../common/log.js'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { loadShadowImage } from './shadow-image.js'
import type { FromShadow, ShadowOwner, ToShadow } from './shadow-protocol.js'

export type { ShadowOwner }

interface Job {
  readonly owner: ShadowOwner
  readonly bytes: Uint8Array
  readonly connId: number
  readonly resolve: (b: Buffer) => void
  readonly reject: (e: Error) => void
  /** The worker's request id, once sent. */
  id?: number
  /** Cancelled after it was sent: its caller has had 57014, and its reply is dropped. */
  abandoned?: boolean
  /** Resolves once the engine is done with an abandoned exchange. */
  settled?: { promise: Promise<void>; resolve: () => void }
}

/** Exchanges handed to the worker at once. */
const WINDOW = 4
/**
 * When the worker was idle, the main thread waits this long for the reply before going back to
 * its event loop: a short catalog statement (SELECT 1 is 8 µs in PGlite) is answered without
 * either thread sleeping, which is most of its latency (see the worker's POLL_MS).
 */
const WAIT_MS = 0.05
/** How long a cancelled exchange the engine is running may go on before the engine is restarted. */
export const ABANDON_GRACE_MS = 1000
const USER_CANCEL = 'canceling statement due to user request'

export interface ShadowOptions {
  readonly users: readonly string[]
  /** Settings every session starts with: the gateway's fedgres.* defaults, so SHOW and RESET know them. */
  readonly settings?: readonly (readonly [string, string])[]
  readonly cacheDir?: string
  /** A statement running longer than this is cancelled (57014). */
  readonly statementTimeoutMs: number
  /** A statement whose reply grows past this is stopped (54000). */
  readonly maxResultBytes: number
  readonly log: Logger
}

/**
 * An exchange's bytes as the worker gets them: a copy of exactly those bytes, transferred.
 * postMessage clones a view's whole ArrayBuffer, not just the view, and an exchange is a view into
 * its encoder's slab, which one large exchange (a gather of every column of 104,000 rows) grew to
 * hundreds of MB: until later exchanges had filled it, each of them, from every session, copied
 * the slab to the worker, and a catalog statement took 150-260 ms instead of 0.5 ms. The job
 * keeps its own bytes: after a restart they are sent again.
 */
function exactCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

export type RestartCause = 'timeout' | 'result_limit' | 'cancelled' | 'crashed'

export class Shadow {
  /** The parameters PostgreSQL reports at startup (name, default value), in its order. */
  parameters: readonly [string, string][] = []
  readonly #opts: ShadowOptions
  readonly #log: Logger
  #image!: Uint8Array
  #worker: Worker | undefined
  #port: MessagePort | undefined
  #ready: Promise<void> | undefined
  readonly #queue: Job[] = []
  /** Sent to the worker, in order; the first is the one running. */
  readonly #sent: Job[] = []
  /** The running exchange's statement timeout. */
  #timer: NodeJS.Timeout | undefined
  #nextId = 1
  #closed = false
  /**
   * An abandoned exchange may have changed its session's state in the engine (a SET it ran
   * before the cancel): the next exchange sent puts its owner's state in place afresh.
   */
  #freshOwner = false
  restarts = 0
  /**
   * Custom settings (placeholders) some session defined: PostgreSQL never forgets one, so the
   * engine knows them all, for every session, from then on (placeholders.ts hides them from the
   * sessions that did not). The settings every session starts with are not among them.
   */
  readonly #placeholders = new Set<string>()
  /** Restarts by cause: a statement past catalog.statement_timeout, past catalog.max_result_mb, a cancelled one past the grace, the worker's own end. */
  readonly restartsBy: Record<RestartCause, number> = { timeout: 0, result_limit: 0, cancelled: 0, crashed: 0 }

  private constructor(opts: ShadowOptions) {
    this.#opts = opts
    this.#log = opts.log.child({ component: 'catalog' })
  }

  static async start(opts: ShadowOptions): Promise<Shadow> {
    const s = new Shadow(opts)
    const t0 = performance.now()
    s.#image = await loadShadowImage(opts.cacheDir)
    await s.#spawn()
    s.#log.info('shadow catalog ready', { ms: Math.round(performance.now() - t0) })
    return s
  }

  #spawn(): Promise<void> {
    const { port1, port2 } = new MessageChannel()
    const worker = new Worker(new URL('./shadow-worker.js', import.meta.url), { workerData: { port: port2 }, transferList: [port2] })
    this.#worker = worker
    this.#port?.close()
    this.#port = port1
    worker.on('error', (e) => this.#log.error('shadow catalog worker failed', { error: e.message }))
    worker.on('exit', () => {
      if (this.#worker !== worker || this.#closed) return
      // The worker died on its own: fail the running exchange, start over for the rest.
      this.restartsBy.crashed++
      void this.#restart(this.#failRunning(new PgError(SqlState.InternalError, 'the catalog engine stopped unexpectedly')))
    })
    const id = this.#nextId++
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromShadow) => {
        if (m.id !== id || 'overflow' in m) return
        port1.off('message', onMessage)
        if (!m.ok) return reject(new Error(m.error))
        this.parameters = m.parameters ?? []
        port1.on('message', (r: FromShadow) => this.#onReply(r))
        resolve()
      }
      port1.on('message', onMessage)
      port1.postMessage({ op: 'init', id, image: this.#image, users: this.#opts.users, settings: this.#opts.settings, maxResultBytes: this.#opts.maxResultBytes } satisfies ToShadow)
    })
    return this.#ready
  }

  /** A fresh engine; `failed` (the exchange it stopped for) is settled once it is up. */
  async #restart(failed: Job | undefined): Promise<void> {
    this.restarts++
    const old = this.#worker
    this.#worker = undefined
    try {
      await old?.terminate()
      if (this.#closed) return
      await this.#spawn()
      this.#pump()
    } finally {
      failed?.settled?.resolve()
    }
  }

  /** Notes that a session defined the custom setting `name` (lower-case) in the engine. */
  definePlaceholder(name: string): void {
    if (!this.#opts.settings?.some(([n]) => n.toLowerCase() === name)) this.#placeholders.add(name)
  }

  /** Custom settings the engine may know that sessions start without. */
  get placeholders(): ReadonlySet<string> {
    return this.#placeholders
  }

  /** Runs one exchange (frontend messages ending in Sync or a Query) as `owner`; resolves with the backend's reply. */
  run(owner: ShadowOwner, bytes: Uint8Array, connId: number): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command'))
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ owner, bytes, connId, resolve, reject })
      this.#pump()
    })
  }

  #pump(): void {
    const worker = this.#worker
    if (!worker) return
    while (this.#sent.length < WINDOW && this.#queue.length > 0) {
      const job = this.#queue.shift()!
      job.id = this.#nextId++
      this.#sent.push(job)
      const ready = this.#ready!
      const port = this.#port!
      void ready.then(() => {
        if (this.#worker !== worker || !this.#sent.includes(job)) return
        const fresh = this.#freshOwner
        this.#freshOwner = false
        const bytes = exactCopy(job.bytes)
        port.postMessage({ op: 'run', id: job.id!, owner: job.owner, bytes, fresh } satisfies ToShadow, [bytes.buffer])
        if (this.#sent[0] === job) this.#awaitBriefly(port)
      })
    }
    this.#armTimer()
  }

  /** Takes the running exchange's reply synchronously if it comes within WAIT_MS. */
  #awaitBriefly(port: MessagePort): void {
    for (const until = performance.now() + WAIT_MS; performance.now() < until; ) {
      const m = receiveMessageOnPort(port)
      if (m) return this.#onReply(m.message as FromShadow)
    }
  }

  /**
   * The statement timeout runs for the head of the sent exchanges, the one the worker is on; an
   * abandoned head has the grace instead.
   */
  #armTimer(): void {
    const head = this.#sent[0]
    if (this.#timer || !head) return
    this.#timer = head.abandoned
      ? setTimeout(() => this.#interrupt(new PgError(SqlState.QueryCanceled, 'a cancelled statement ran past the grace'), 'cancelled'), ABANDON_GRACE_MS)
      : setTimeout(() => this.#interrupt(this.#tooLong(), 'timeout'), this.#opts.statementTimeoutMs)
  }

  #onReply(m: FromShadow): void {
    const job = this.#sent[0]
    if (!job || job.id !== m.id) return
    if ('overflow' in m) return this.#interrupt(this.#tooBig(), 'result_limit')
    this.#sent.shift()
    job.settled?.resolve()
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (job.abandoned) {
      // Answered already.
    } else if (m.ok) job.resolve(Buffer.from(m.bytes!.buffer, m.bytes!.byteOffset, m.bytes!.byteLength))
    else job.reject(new PgError(SqlState.InternalError, 'internal error', { cause: new Error(m.error) }))
    this.#pump()
  }

  /** Fails the running exchange (and returns it); those sent behind it had not started and go back to the queue's front. */
  #failRunning(e: Error): Job | undefined {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const [head, ...rest] = this.#sent.splice(0)
    for (const j of rest.reverse()) {
      if (j.abandoned) continue
      j.id = undefined
      this.#queue.unshift(j)
    }
    head?.reject(e)
    return head
  }

  /**
   * The engine's own limit (catalog.statement_timeout), not the session's statement_timeout: it
   * says so, since the client may have set none.
   */
  #tooLong(): PgError {
    const ms = this.#opts.statementTimeoutMs
    const limit = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`
    return new PgError(SqlState.QueryCanceled, `canceling statement: the gateway's local engine ran it for longer than its limit of ${limit}`, {
      hint: "The gateway's local engine computes what the edges cannot (large joins across edges, gathered rows). Narrow the statement (a time range, a host), or raise catalog.statement_timeout in the gateway's configuration.",
    })
  }

  #tooBig(): PgError {
    const mb = Math.round(this.#opts.maxResultBytes / 1024 / 1024)
    return new PgError(SqlState.ProgramLimitExceeded, `the result of this statement in the gateway's local engine exceeds its limit of ${mb} MB`, {
      hint: "Narrow the statement (a time range, a host), aggregate, or raise catalog.max_result_mb in the gateway's configuration.",
    })
  }

  #interrupt(err: PgError, cause: RestartCause): void {
    this.restartsBy[cause]++
    this.#log.warn('catalog statement interrupted; restarting the catalog engine', { reason: err.message })
    void this.#restart(this.#failRunning(err))
  }

  /**
   * Cancels `connId`'s exchange, running or queued (a CancelRequest, or `message` for the
   * session's statement_timeout): its caller gets 57014 at once.
   */
  cancel(connId: number, message = USER_CANCEL): boolean {
    const err = new PgError(SqlState.QueryCanceled, message)
    const i = this.#queue.findIndex((j) => j.connId === connId)
    if (i >= 0) {
      this.#queue.splice(i, 1)[0]!.reject(err)
      return true
    }
    const sent = this.#sent.find((j) => j.connId === connId && !j.abandoned)
    if (!sent) return false
    sent.abandoned = true
    sent.reject(err)
    this.#freshOwner = true
    if (this.#sent[0] === sent) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      this.#armTimer()
    }
    return true
  }

  /**
   * While the engine still runs `connId`'s abandoned exchange, a promise of its end: the
   * session's next statement_timeout counts from there (in PostgreSQL the cancelled statement is
   * gone at once; here it holds the engine a little longer, for the session's own next statement too).
   */
  settled(connId: number): Promise<void> | undefined {
    const job = this.#sent.find((j) => j.connId === connId && j.abandoned)
    if (!job) return undefined
    if (!job.settled) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      job.settled = { promise, resolve }
    }
    return job.settled.promise
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    for (const j of [...this.#sent.splice(0), ...this.#queue.splice(0)]) {
      j.reject(new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command'))
      j.settled?.resolve()
    }
    await this.#worker?.terminate()
    this.#port?.close()
  }
}
