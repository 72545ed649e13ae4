/**
 * Appends received events to the spool before anything else happens to them.
 *
 * Records are written into one byte buffer for at most one turn of the event loop and then to
 * the file with one `write()`; only then do they count as received. `write()` returns once the
 * bytes are in the kernel's page cache, so a `kill -9` of the agent loses nothing it counted.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs'
import { TABLE_LETTER, ensureDir, listSegments, repairTail, segmentPath, type SpoolPosition } from './spool-files.js'
import { ByteSink } from './byte-sink.js'
import type { EventTable } from '../../schema/index.js'

export interface SpoolWriterOptions {
  readonly dir: string
  /** Rotate to a new segment past this size (default 64 MiB). */
  readonly segmentBytes?: number
  /** Called after each write with the new end of the spool and the records it holds. */
  readonly onFlush: (end: SpoolPosition, records: number) => void
}

const LETTER_BYTE = { alerts: TABLE_LETTER.alerts.charCodeAt(0), logs: TABLE_LETTER.logs.charCodeAt(0) } as const

export class SpoolWriter {
  readonly #dir: string
  readonly #segmentBytes: number
  readonly #onFlush: SpoolWriterOptions['onFlush']
  readonly #pending = new ByteSink(1 << 20)
  #records = 0
  #recordStart = -1
  #segment: number
  #fd: number
  #offset: number
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

  /**
   * Starts a record of `table`; the caller writes its COPY row, newline included, into the
   * returned sink, then calls commitRecord() (or abortRecord() if the row could not be built).
   */
  beginRecord(table: EventTable): ByteSink {
    if (this.#closed) throw new Error('spool is closed')
    this.#recordStart = this.#pending.len
    this.#pending.byte(LETTER_BYTE[table])
    return this.#pending
  }

  commitRecord(): void {
    this.#recordStart = -1
    this.#records++
    if (this.#pending.len >= 1 << 20) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  abortRecord(): void {
    if (this.#recordStart >= 0) this.#pending.len = this.#recordStart
    this.#recordStart = -1
  }

  /** Appends a record whose COPY row (with its newline) is already a string. */
  append(table: EventTable, copyLine: string): void {
    this.beginRecord(table).utf8(copyLine)
    this.commitRecord()
  }

  /** Writes every buffered record now. */
  flush(): void {
    this.#scheduled = false
    if (this.#records === 0) return
    const records = this.#records
    const buf = this.#pending.buf
    const len = this.#pending.len
    let written = 0
    while (written < len) written += writeSync(this.#fd, buf, written, len - written)
    this.#pending.len = 0
    this.#records = 0
    this.#offset += len
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
