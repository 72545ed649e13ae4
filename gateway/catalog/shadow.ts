/**
 * The main thread's handle on the shadow catalog worker: a FIFO of protocol exchanges, one at a
 * time, each with a timeout. Cancelling (or timing out) the running exchange ends the worker and
 * starts a fresh one from the image; queued exchanges of other sessions then run there.
 */
import { Worker } from 'node:worker_threads'
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
}

export interface ShadowOptions {
  readonly users: readonly string[]
  readonly cacheDir?: string
  /** A statement running longer than this is cancelled (57014). */
  readonly statementTimeoutMs: number
  readonly log: Logger
}

export class Shadow {
  /** The parameters PostgreSQL reports at startup (name, default value), in its order. */
  parameters: readonly [string, string][] = []
  readonly #opts: ShadowOptions
  readonly #log: Logger
  #image!: Uint8Array
  #worker: Worker | undefined
  #ready: Promise<void> | undefined
  readonly #queue: Job[] = []
  #running: (Job & { timer: NodeJS.Timeout }) | undefined
  #nextId = 1
  #closed = false
  restarts = 0

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
    const worker = new Worker(new URL('./shadow-worker.js', import.meta.url))
    this.#worker = worker
    worker.on('error', (e) => this.#log.error('shadow catalog worker failed', { error: e.message }))
    worker.on('exit', () => {
      if (this.#worker !== worker || this.#closed) return
      // The worker died on its own: fail the running exchange, start over for the rest.
      this.#failRunning(new PgError(SqlState.InternalError, 'the catalog engine stopped unexpectedly'))
      void this.#restart()
    })
    const id = this.#nextId++
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromShadow) => {
        if (m.id !== id) return
        worker.off('message', onMessage)
        if (!m.ok) return reject(new Error(m.error))
        this.parameters = m.parameters ?? []
        worker.on('message', (r: FromShadow) => this.#onReply(r))
        resolve()
      }
      worker.on('message', onMessage)
      worker.postMessage({ op: 'init', id, image: this.#image, users: this.#opts.users } satisfies ToShadow)
    })
    return this.#ready
  }

  async #restart(): Promise<void> {
    this.restarts++
    const old = this.#worker
    this.#worker = undefined
    await old?.terminate()
    if (this.#closed) return
    await this.#spawn()
    this.#pump()
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
    if (this.#running || !this.#worker || this.#queue.length === 0) return
    const ready = this.#ready
    const job = this.#queue.shift()!
    const timer = setTimeout(() => this.#interrupt('canceling statement due to statement timeout'), this.#opts.statementTimeoutMs)
    this.#running = { ...job, timer }
    void ready!.then(() => {
      if (this.#running?.bytes !== job.bytes) return
      this.#worker!.postMessage({ op: 'run', id: this.#nextId++, owner: job.owner, bytes: job.bytes } satisfies ToShadow)
    })
  }

  #onReply(m: FromShadow): void {
    const job = this.#running
    if (!job) return
    clearTimeout(job.timer)
    this.#running = undefined
    if (m.ok) job.resolve(Buffer.from(m.bytes!.buffer, m.bytes!.byteOffset, m.bytes!.byteLength))
    else job.reject(new PgError(SqlState.InternalError, 'internal error', { cause: new Error(m.error) }))
    this.#pump()
  }

  #failRunning(e: Error): void {
    const job = this.#running
    if (!job) return
    clearTimeout(job.timer)
    this.#running = undefined
    job.reject(e)
  }

  #interrupt(message: string): void {
    this.#log.warn('catalog statement interrupted; restarting the catalog engine', { reason: message })
    this.#failRunning(new PgError(SqlState.QueryCanceled, message))
    void this.#restart()
  }

  /** Cancels `connId`'s exchange, running or queued (CancelRequest). */
  cancel(connId: number): boolean {
    if (this.#running?.connId === connId) {
      this.#interrupt('canceling statement due to user request')
      return true
    }
    const i = this.#queue.findIndex((j) => j.connId === connId)
    if (i < 0) return false
    this.#queue.splice(i, 1)[0]!.reject(new PgError(SqlState.QueryCanceled, 'canceling statement due to user request'))
    return true
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const j of this.#queue.splice(0)) j.reject(new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command'))
    this.#failRunning(new PgError(SqlState.AdminShutdown, 'terminating connection due to administrator command'))
    await this.#worker?.terminate()
  }
}
