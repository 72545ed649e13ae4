/**
 * A connection's writer that keeps at most a set number of reply bytes in memory. An edge cannot
 * pause its store mid-statement (PGlite runs a statement to its end), so when a gateway reads a
 * large reply slower than the edge makes it, the rest would wait in memory: 1 M rows held 1.1 GB.
 * Past the limit the reply goes to a file instead (unlinked as soon as it is made, so nothing is
 * left behind), and is sent from there, in order, as the peer reads.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs'
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'

/** What a Responder writes to: a socket, or a SpillingSink in front of one. */
export interface ReplySink {
  write(bytes: Uint8Array): boolean
  on(event: 'drain' | 'close', listener: () => void): unknown
  off(event: 'drain' | 'close', listener: () => void): unknown
  once(event: 'close', listener: () => void): unknown
}

export interface SpillOptions {
  /** Where spill files are made: on the disk the edge's data is on, not a tmpfs. */
  readonly dir: string
  /** Bytes a connection may hold in memory before the rest of its reply goes to a file. */
  readonly memoryBytes: number
  /** Told when a spill file cannot be written; the connection is then closed. */
  readonly onError?: (e: Error) => void
}

const READ_BYTES = 1024 * 1024
let nextFile = 0

export class SpillingSink extends EventEmitter implements ReplySink {
  #fd: number | null = null
  /** Bytes in the file not yet sent: [readAt, writeAt). */
  #readAt = 0
  #writeAt = 0
  #closed = false

  constructor(
    readonly socket: Duplex,
    readonly opts: SpillOptions,
  ) {
    super()
    socket.on('drain', () => this.#pump())
    socket.once('close', () => {
      this.#closed = true
      if (this.#fd !== null) closeSync(this.#fd)
      this.#fd = null
      this.emit('close')
    })
  }

  /** Bytes waiting in the spill file. */
  get spilled(): number {
    return this.#writeAt - this.#readAt
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return false
    if (this.spilled === 0 && this.socket.writableLength + bytes.length <= this.opts.memoryBytes) return this.socket.write(bytes)
    try {
      this.#fd ??= openSpillFile(this.opts.dir)
      writeSync(this.#fd, bytes, 0, bytes.length, this.#writeAt)
      this.#writeAt += bytes.length
    } catch (e) {
      this.opts.onError?.(e as Error)
      this.socket.destroy(e as Error)
      return false
    }
    // A socket with nothing to drain will not say 'drain': start sending from the file now.
    if (!this.socket.writableNeedDrain) setImmediate(() => this.#pump())
    return false
  }

  /** Sends from the file while the socket holds under half the limit; 'drain' once all is sent. */
  #pump(): void {
    if (this.#closed) return
    if (this.spilled > 0 && this.#fd !== null) {
      while (this.spilled > 0 && this.socket.writableLength < this.opts.memoryBytes / 2) {
        const chunk = Buffer.allocUnsafe(Math.min(READ_BYTES, this.spilled))
        const n = readSync(this.#fd, chunk, 0, chunk.length, this.#readAt)
        this.#readAt += n
        this.socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))
      }
      if (this.spilled > 0) return
      // All sent: the file is reused from its start by the next spill.
      this.#readAt = this.#writeAt = 0
      ftruncateSync(this.#fd, 0)
      if (this.socket.writableNeedDrain) return // 'drain' comes again, and is passed on then
    }
    this.emit('drain')
  }
}

function openSpillFile(dir: string): number {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `reply-${process.pid}-${nextFile++}`)
  const fd = openSync(path, 'w+', 0o600)
  unlinkSync(path)
  return fd
}
