/**
 * The main thread's handle on the store worker. It never waits on the database itself: it tells
 * the worker how far the spool may be committed, and hears back what was committed.
 */
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { initDataDir } from './init-data-dir.js'
import type { CheckpointDone } from './checkpointer.js'
import type { SpoolPosition } from '../spool/spool-files.js'
import type { EventTable } from '../../schema/index.js'
import type { AdvanceMessage, CommittedEvent, DropResult, FromWorker, OpenRequest, OpenResult, PartitionInfo, Request } from './worker-protocol.js'

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onChunk?: (data: Uint8Array) => void }

export interface EdgeStoreEvents {
  committed: [CommittedEvent]
  rejected: [{ rows: number; error: string }]
  segmentGone: [number]
  analyzed: [{ relation: string; ms: number }]
  checkpointed: [CheckpointDone]
  fatal: [Error]
}

export class EdgeStore extends EventEmitter<EdgeStoreEvents> {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #exited = false

  constructor() {
    super()
    // A young generation of 24 MB (semi-spaces of 8 MB) instead of V8's 48: the worker's garbage is
    // short-lived COPY text and protocol buffers, and the larger one only added resident memory.
    this.#worker = new Worker(new URL('./store-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 24 } })
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m))
    this.#worker.on('error', (e) => this.#failAll(e))
    this.#worker.on('exit', (code) => {
      this.#exited = true
      this.#failAll(new Error(`store worker exited (code ${code})`))
    })
  }

  #onMessage(m: FromWorker): void {
    switch (m.kind) {
      case 'reply': {
        const p = this.#pending.get(m.id)
        if (!p) return
        this.#pending.delete(m.id)
        if (m.ok) p.resolve(m.value)
        else p.reject(Object.assign(new Error(m.error.message), { stack: m.error.stack }))
        return
      }
      case 'chunk':
        this.#pending.get(m.id)?.onChunk?.(m.data)
        return
      case 'committed':
        this.emit('committed', m)
        return
      case 'rejected':
        this.emit('rejected', { rows: m.rows, error: m.error })
        return
      case 'segmentGone':
        this.emit('segmentGone', m.segment)
        return
      case 'analyzed':
        this.emit('analyzed', { relation: m.relation, ms: m.ms })
        return
      case 'checkpointed':
        this.emit('checkpointed', { cause: m.cause, walBytes: m.walBytes, ms: m.ms })
        return
      case 'fatal':
        this.emit('fatal', Object.assign(new Error(m.error.message), { stack: m.error.stack, poisoned: m.poisoned === true }))
        return
    }
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e)
    this.#pending.clear()
  }

  #request<T>(req: Request, onChunk?: (data: Uint8Array) => void, transfer?: ArrayBuffer[]): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('store worker has exited'))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onChunk })
      this.#worker.postMessage({ ...req, id }, transfer)
    })
  }

  /** Opens the store; a new data dir is created first, in a process of its own (init-data-dir.ts). */
  async open(req: Omit<OpenRequest, 'op'>): Promise<OpenResult> {
    const created = existsSync(join(req.pgDataDir, 'PG_VERSION')) ? undefined : await initDataDir(req.pgDataDir, req.sharedBuffers)
    const opened = await this.#request<OpenResult>({ op: 'open', ...req })
    return created ? { ...opened, created } : opened
  }

  /** Records up to `to` may be committed (their synopsis is published). */
  advance(to: SpoolPosition, synopsis?: unknown): void {
    const msg: AdvanceMessage = { op: 'advance', to, synopsis }
    this.#worker.postMessage(msg)
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.#request({ op: 'query', sql, params })
  }

  /** Runs raw protocol messages on PGlite; the backend's reply bytes stream to `onChunk`. */
  protocol(bytes: Uint8Array, onChunk: (data: Uint8Array) => void): Promise<void> {
    return this.#request({ op: 'protocol', bytes }, onChunk)
  }

  /**
   * Runs a gateway's messages (ending in Sync) in a READ ONLY transaction under the store's
   * mutex, rolled back afterwards so no state outlives them; the reply streams to `onChunk`.
   * `setup` (the statement setting its connection's settings) runs in that transaction first.
   * `signal` drops the request while it still waits for the mutex (a running one completes).
   */
  serve(bytes: Uint8Array, onChunk: (data: Uint8Array) => void, signal?: AbortSignal, setup?: string): Promise<void> {
    const id = this.#nextId
    const onAbort = () => this.#worker.postMessage({ op: 'cancelServe', target: id, id: -1 })
    signal?.addEventListener('abort', onAbort, { once: true })
    return this.#request<void>({ op: 'serve', bytes, setup }, onChunk).finally(() => signal?.removeEventListener('abort', onAbort))
  }

  /** Makes `synopsis` the one the edge's `fedgres.synopsis` view shows (static discovery reads it). */
  publishLocal(synopsis: unknown): Promise<void> {
    return this.#request({ op: 'publishLocal', synopsis: JSON.stringify(synopsis) })
  }

  saveSources(rows: readonly Record<string, unknown>[]): Promise<void> {
    return this.#request({ op: 'sources', rows })
  }

  /** Commits a staging spool (an import) in one transaction, storing `synopsis` with it. */
  partitions(): Promise<PartitionInfo[]> {
    return this.#request({ op: 'partitions' })
  }

  /** The bytes `COPY (query) TO '/dev/blob' …` writes. */
  copyOut(sql: string): Promise<Uint8Array> {
    return this.#request({ op: 'copyOut', sql })
  }

  dropPartition(table: EventTable, day: string, expectRows: number | null): Promise<DropResult> {
    return this.#request({ op: 'dropPartition', table, day, expectRows })
  }

  importSpool(dir: string, synopsis: unknown): Promise<Record<'alerts' | 'logs', number>> {
    return this.#request({ op: 'importSpool', dir, synopsis })
  }

  /** Waits until everything advanced so far is committed. */
  drain(): Promise<SpoolPosition> {
    return this.#request({ op: 'drain' })
  }

  /** Ends the worker (and its PGlite) whatever state it is in: a data dir's lock must never outlive it. */
  async terminate(): Promise<void> {
    if (this.#exited) return
    await this.#worker.terminate()
  }

  async close(): Promise<void> {
    if (this.#exited) return
    await this.#request({ op: 'close' })
    await this.#worker.terminate()
  }
}
