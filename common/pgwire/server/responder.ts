/**
 * Where a session writes its replies: backend messages are encoded into one buffer and written
 * to the socket in batches (at ReadyForQuery, on Flush, or every 64 KB), because one TCP write
 * per DataRow cost 3.5× in row throughput, and Nagle plus delayed ACKs cost 100× in latency.
 */
import { BackendEncoder, errorFromPgError, type ErrorFields, type TransactionStatus } from '../index.js'
import type { PgError } from '../../errors/pg-error.js'
import type { ReplySink } from './reply-spill.js'

const BATCH_BYTES = 64 * 1024

export class Responder {
  readonly enc = new BackendEncoder()
  readonly #socket: ReplySink
  #closed = false
  /** The wait for 'drain' that every flush in the meantime shares. */
  #drained: Promise<void> | undefined

  constructor(socket: ReplySink) {
    this.#socket = socket
    socket.once('close', () => (this.#closed = true))
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Appends an already-encoded backend message (relayed from the shadow or an edge). */
  frame(frame: Uint8Array): void {
    this.enc.message(frame)
  }

  error(e: PgError): void {
    this.enc.errorResponse(errorFromPgError(e))
  }

  errorFields(fields: ErrorFields): void {
    this.enc.errorResponse(fields)
  }

  notice(fields: ErrorFields): void {
    this.enc.noticeResponse(fields)
  }

  readyForQuery(status: TransactionStatus): void {
    this.enc.readyForQuery(status)
  }

  /** Writes what is pending; waits while the socket's buffer is full (backpressure). */
  async flush(): Promise<void> {
    if (this.enc.pendingBytes === 0 || this.#closed) return
    const ok = this.#socket.write(this.enc.take())
    if (!ok && !this.#closed) {
      await (this.#drained ??= new Promise<void>((resolve) => {
        const done = () => {
          this.#socket.off('drain', done)
          this.#socket.off('close', done)
          this.#drained = undefined
          resolve()
        }
        this.#socket.on('drain', done)
        this.#socket.on('close', done)
      }))
    }
  }

  /** Flushes once a batch is full: call while streaming rows. */
  async maybeFlush(): Promise<void> {
    if (this.enc.pendingBytes >= BATCH_BYTES) await this.flush()
  }
}
