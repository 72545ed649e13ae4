/**
 * Appends received events to the spool before anything else happens to them.
 *
 * Records are written into one byte buffer for at most one turn of the event loop and then to
 * the file with one `write()`; only then do they count as received. `write()` returns once the
 * bytes are in the kernel's page cache, so a `kill -9` of the agent loses nothing it counted.
 *
 * A write that fails (a full disk, a quota, an I/O error) loses nothing either: writes are
 * positional, at the end of what was written, so a torn one is simply written again; the records
 * stay in memory and the write is retried every `retryMs`, up to `maxHeldBytes` of them. The
 * caller sees `failure` and `accepting`, and decides what to do with events beyond that.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs'
import { TABLE_LETTER, ensureDir, listSegments, repairTail, segmentPath, type SpoolPosition } from './spool-files.js'
import { ByteSink } from './byte-sink.js'
import type { EventTable } from '../../schema/index.js'

/** The file calls the writer makes: the real ones, or faults injected by tests. */
export interface SpoolIo {
  openSync(path: string, flags: number): number
  writeSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number
  closeSync(fd: number): void
}

const realIo: SpoolIo = { openSync: (p, f) => openSync(p, f, 0o644), writeSync: (fd, b, o, l, p) => writeSync(fd, b, o, l, p), closeSync }
const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT

export interface SpoolWriterOptions {
  readonly dir: string
  /** Rotate to a new segment past this size (default 64 MiB). */
  readonly segmentBytes?: number
  /** Called after each write with the new end of the spool and the records it holds. */
  readonly onFlush: (end: SpoolPosition, records: number) => void
  /**
   * What a failed write does: 'throw' (the default: a one-off job such as an import fails), or
   * 'hold' (the agent: keep the records in memory and retry; `onFailure` reports the change).
   */
  readonly onWriteError?: 'throw' | 'hold'
  /** Called with the error when writes start failing, and with undefined when one succeeds again. */
  readonly onFailure?: (error: NodeJS.ErrnoException | undefined) => void
  /** Bytes of records held in memory while writes fail before `accepting` turns false (default 64 MiB). */
  readonly maxHeldBytes?: number
  /** Retry period of a failed write (default 1 s). */
  readonly retryMs?: number
  /**
   * Given (the agent), the writer looks before each write and every second whether its segment's
   * file was deleted under it (someone freeing a full disk): if so it starts a new segment, so
   * that nothing more is written to a file no one can read, and reports the deleted one.
   */
  readonly onSegmentGone?: (segment: number) => void
  readonly io?: SpoolIo
}

const LETTER_BYTE = { alerts: TABLE_LETTER.alerts.charCodeAt(0), logs: TABLE_LETTER.logs.charCodeAt(0) } as const

export class SpoolWriter {
  readonly #dir: string
  readonly #segmentBytes: number
  readonly #onFlush: SpoolWriterOptions['onFlush']
  readonly #hold: boolean
  readonly #onFailure: SpoolWriterOptions['onFailure']
  readonly #maxHeldBytes: number
  readonly #retryMs: number
  readonly #io: SpoolIo
  readonly #pending = new ByteSink(1 << 20)
  #records = 0
  #recordStart = -1
  #segment: number
  #fd: number
  #offset: number
  #scheduled = false
  #closed = false
  #failure: NodeJS.ErrnoException | undefined
  #retry: NodeJS.Timeout | undefined
  readonly #onGone: SpoolWriterOptions['onSegmentGone']
  #goneCheck: NodeJS.Timeout | undefined

  constructor(opts: SpoolWriterOptions) {
    this.#dir = opts.dir
    this.#segmentBytes = opts.segmentBytes ?? 64 << 20
    this.#onFlush = opts.onFlush
    this.#hold = opts.onWriteError === 'hold'
    this.#onFailure = opts.onFailure
    this.#maxHeldBytes = opts.maxHeldBytes ?? 64 << 20
    this.#retryMs = opts.retryMs ?? 1000
    this.#io = opts.io ?? realIo
    ensureDir(this.#dir)
    repairTail(this.#dir)
    const segs = listSegments(this.#dir)
    this.#segment = segs[segs.length - 1] ?? 1
    this.#fd = this.#io.openSync(segmentPath(this.#dir, this.#segment), OPEN_FLAGS)
    this.#offset = fstatSync(this.#fd).size
    this.#onGone = opts.onSegmentGone
    if (this.#onGone) {
      this.#goneCheck = setInterval(() => this.#replaceIfGone(), 1000)
      this.#goneCheck.unref()
    }
  }

  /** If the segment's file was deleted (nlink 0), starts a new segment and reports the old one; tried again later if that fails. */
  #replaceIfGone(): void {
    if (!this.#onGone || this.#closed || fstatSync(this.#fd).nlink > 0) return
    const gone = this.#segment
    let fd: number
    try {
      ensureDir(this.#dir) // the whole directory may be gone
      fd = this.#io.openSync(segmentPath(this.#dir, gone + 1), OPEN_FLAGS)
    } catch {
      return
    }
    this.#io.closeSync(this.#fd)
    this.#fd = fd
    this.#segment = gone + 1
    this.#offset = 0
    this.#onGone(gone)
  }

  /** The end of what has been written. */
  get end(): SpoolPosition {
    return { segment: this.#segment, offset: this.#offset }
  }

  /** The error of the last write while writes fail ('hold' mode); undefined otherwise. */
  get failure(): NodeJS.ErrnoException | undefined {
    return this.#failure
  }

  /** Records waiting in memory (for a write, or for a failing disk). */
  get heldRecords(): number {
    return this.#records
  }

  /** False while writes fail and `maxHeldBytes` of records are held: more cannot be kept. */
  get accepting(): boolean {
    return this.#failure === undefined || this.#pending.len < this.#maxHeldBytes
  }

  /**
   * Starts a record of `table`; the caller writes its COPY row, newline included, into the
   * returned sink, then calls commitRecord() (or abortRecord() if the row could not be built).
   */
  beginRecord(table: EventTable): ByteSink {
    if (this.#closed) throw new Error('spool is closed')
    if (this.#deferred !== undefined) this.flush() // throws it
    this.#recordStart = this.#pending.len
    this.#pending.byte(LETTER_BYTE[table])
    return this.#pending
  }

  commitRecord(): void {
    this.#recordStart = -1
    this.#records++
    if (this.#failure) return // the retry timer writes them
    if (this.#pending.len >= 1 << 20) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.#scheduledFlush())
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

  /** A flush no caller waits for: in 'throw' mode its error is thrown by the next call instead. */
  #scheduledFlush(): void {
    try {
      this.flush()
    } catch (e) {
      this.#deferred = e
    }
  }

  #deferred: unknown

  /** Writes every buffered record now (in 'hold' mode a failure keeps them for the retry). */
  flush(): void {
    this.#scheduled = false
    if (this.#deferred !== undefined) {
      const e = this.#deferred
      this.#deferred = undefined
      throw e
    }
    if (this.#records === 0 || this.#closed) return
    this.#replaceIfGone()
    const records = this.#records
    const buf = this.#pending.buf
    const len = this.#pending.len
    let written = 0
    try {
      // Positional: a write torn by a full disk leaves the end where it was, and is written again.
      while (written < len) written += this.#io.writeSync(this.#fd, buf, written, len - written, this.#offset + written)
    } catch (e) {
      if (!this.#hold) throw e
      // The whole records a short write got onto the disk are written: counted, and not written
      // again (rewriting up to 64 MiB from the start kept the freed space for the torn part, and
      // after a partial free no record was ever counted while events were dropped).
      const kept = this.#keepWritten(written)
      this.#failed(e as NodeJS.ErrnoException)
      if (kept) this.#onFlush(kept.end, kept.records)
      return
    }
    this.#pending.len = 0
    this.#records = 0
    this.#offset += len
    const end = this.end
    if (this.#offset >= this.#segmentBytes) this.#rotate()
    if (this.#failure) {
      this.#failure = undefined
      clearTimeout(this.#retry)
      this.#onFailure?.(undefined)
    }
    this.#onFlush(end, records)
  }

  /** Moves the end past the whole records among the first `written` held bytes; what they were, or undefined for none. */
  #keepWritten(written: number): { end: SpoolPosition; records: number } | undefined {
    const buf = this.#pending.buf
    const complete = written > 0 ? buf.lastIndexOf(0x0a, written - 1) + 1 : 0
    if (complete === 0) return undefined
    let records = 0
    for (let i = buf.indexOf(0x0a); i >= 0 && i < complete; i = buf.indexOf(0x0a, i + 1)) records++
    buf.copy(buf, 0, complete, this.#pending.len)
    this.#pending.len -= complete
    this.#records -= records
    this.#offset += complete
    return { end: this.end, records }
  }

  #failed(e: NodeJS.ErrnoException): void {
    const first = this.#failure === undefined
    this.#failure = e
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => this.flush(), this.#retryMs)
    this.#retry.unref()
    if (first) this.#onFailure?.(e)
  }

  /** A new segment; if it cannot be created now (a full disk), the current one grows until it can. */
  #rotate(): void {
    let fd: number
    try {
      fd = this.#io.openSync(segmentPath(this.#dir, this.#segment + 1), OPEN_FLAGS)
    } catch (e) {
      if (!this.#hold) throw e
      return
    }
    this.#io.closeSync(this.#fd)
    this.#fd = fd
    this.#segment++
    this.#offset = 0
  }

  /** Writes what it holds and closes; returns the records it could not write (a failing disk). */
  close(): number {
    if (this.#closed) return 0
    this.flush()
    const lost = this.#records
    this.#closed = true
    clearTimeout(this.#retry)
    clearInterval(this.#goneCheck)
    this.#io.closeSync(this.#fd)
    return lost
  }
}
