/**
 * Appends received events to the spool before anything else happens to them.
 *
 * Records are buffered for at most one turn of the event loop and then written with one
 * `write()`; only then do they count as received. `write()` returns once the bytes are in the
 * kernel's page cache, so a `kill -9` of the agent loses nothing it has counted.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs'
import { TABLE_LETTER, ensureDir, listSegments, repairTail, segmentPath, type SpoolPosition } from './spool-files.js'
import type { EventTable } from '../../schema/index.js'

export interface SpoolWriterOptions {
  readonly dir: string
  /** Rotate to a new segment past this size (default 64 MiB). */
  readonly segmentBytes?: number
  /** Called after each write with the new end of the spool and the records it holds. */
  readonly onFlush: (end: SpoolPosition, records: number) => void
}

export class SpoolWriter {
  readonly #dir: string
  readonly #segmentBytes: number
  readonly #onFlush: SpoolWriterOptions['onFlush']
  #segment: number
  #fd: number
  #offset: number
  #pending: string[] = []
  #pendingBytes = 0
  #scheduled = false
  #closed = false

  constructor(opts: SpoolWriterOptions) {
    this.#dir = opts.dir
    this.#segmentBytes = opts.segmentBytes ?? 64 << 20
    this.#onFlush = opts.onFlush
    ensureDir(this.#dir)
    repairTail(this.#dir)
    const segs = listSegments(this.#dir)
    this.#segment = segs[segs.length - 1] ?? 1
    this.#fd = openSync(segmentPath(this.#dir, this.#segment), 'a')
    this.#offset = fstatSync(this.#fd).size
  }

  /** The end of what has been written. */
  get end(): SpoolPosition {
    return { segment: this.#segment, offset: this.#offset }
  }

  get bufferedRecords(): number {
    return this.#pending.length
  }

  append(table: EventTable, copyLine: string): void {
    if (this.#closed) throw new Error('spool is closed')
    const rec = TABLE_LETTER[table] + copyLine
    this.#pending.push(rec)
    this.#pendingBytes += rec.length
    if (this.#pendingBytes >= 1 << 20) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Writes every buffered record now. */
  flush(): void {
    this.#scheduled = false
    if (this.#pending.length === 0) return
    const records = this.#pending.length
    const buf = Buffer.from(this.#pending.join(''), 'utf8')
    this.#pending = []
    this.#pendingBytes = 0
    let written = 0
    while (written < buf.length) written += writeSync(this.#fd, buf, written)
    this.#offset += buf.length
    const end = this.end
    if (this.#offset >= this.#segmentBytes) this.#rotate()
    this.#onFlush(end, records)
  }

  #rotate(): void {
    closeSync(this.#fd)
    this.#segment++
    this.#fd = openSync(segmentPath(this.#dir, this.#segment), 'a')
    this.#offset = 0
  }

  close(): void {
    if (this.#closed) return
    this.flush()
    this.#closed = true
    closeSync(this.#fd)
  }
}
