/**
 * The durable outbox: fired alerts wait here, on disk, until every sink they go to has taken them.
 *
 * One file, `<dir>/outbox.jsonl`, of JSON lines:
 *
 *   {"seq":7,"sinks":["ops","siem"],"alert":{…}}   alert 7 is to go to ops and siem
 *   {"done":7,"sink":"ops"}                          ops has it
 *   {"drop":7}                                       given up (the queue was full)
 *   {"next":8}                                       first line of a compacted file: the next seq
 *
 * Replaying the lines in order gives what is still to deliver. An alert's line is written and
 * fdatasync'd before append()'s `durable` resolves, and only then is it sent anywhere. `done`
 * lines are written at once (so a killed process keeps them: they are in the page cache) and
 * synced with the next alert or on close; a power cut can lose the latest ones, and those
 * alerts are sent again. Delivery is at-least-once either way: a crash between a receiver taking
 * an alert and its `done` line being written also resends it.
 *
 * Writes are async (fsync runs on libuv's pool, not the event loop) and one at a time; alerts
 * fired together share one write and one fsync. Once the file holds `compactAfter` lines and
 * more than twice the live ones, it is rewritten with just the live alerts (each with only the
 * sinks still to go) to a temporary file, synced, and renamed over the old one. The same
 * rewrite runs at open when the file holds anything dead, or a torn last line from a crash.
 */
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, write, writeFileSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import { alertJsonReplacer, type FiredAlert } from './alert.js'

const writeAsync = promisify(write)
const fdatasyncAsync = promisify(fdatasync)

export interface OutboxEntry {
  readonly seq: number
  readonly alert: FiredAlert
  /** Sinks that have not taken it yet. */
  readonly pending: ReadonlySet<string>
}

interface Entry extends OutboxEntry {
  readonly pending: Set<string>
}

type OutboxRecord = { seq: number; sinks: string[]; alert: FiredAlert } | { done: number; sink: string } | { drop: number } | { next: number }

export interface OutboxOptions {
  readonly dir: string
  /** Alerts kept waiting at most; appending one more drops the oldest (onDrop). */
  readonly maxAlerts: number
  /** Lines in the file before a compaction is considered (default 10,000). */
  readonly compactAfter?: number
  readonly log: Logger
  readonly onDrop?: (entry: OutboxEntry) => void
}

export class Outbox {
  readonly #path: string
  readonly #dir: string
  readonly #opts: OutboxOptions
  readonly #entries = new Map<number, Entry>() // insertion order is seq order
  #fd: number
  #nextSeq = 1
  #fileLines = 0
  #lines: string[] = []
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = []
  #syncWanted = false
  #rewriteWanted = false
  #draining = false
  #writing: Promise<void> = Promise.resolve()
  #closed = false

  /** Reads what a previous run left (synchronously: this is start-up). */
  constructor(opts: OutboxOptions) {
    this.#opts = opts
    this.#dir = opts.dir
    this.#path = join(opts.dir, 'outbox.jsonl')
    mkdirSync(opts.dir, { recursive: true })
    const clean = this.#replay()
    // A compacted file holds a `next` line and the live alerts; anything more is dead weight.
    if (!clean || this.#fileLines > this.#entries.size + 1) this.#rewriteSync()
    this.#fd = openSync(this.#path, 'a')
  }

  /** Alerts still waiting for at least one sink. */
  get size(): number {
    return this.#entries.size
  }

  /** Waiting alerts, oldest first. */
  entries(): IterableIterator<OutboxEntry> {
    return this.#entries.values()
  }

  get(seq: number): OutboxEntry | undefined {
    return this.#entries.get(seq)
  }

  /**
   * Queues an alert for `sinks` and returns its sequence number at once; `durable` resolves when
   * its line is on disk. With no sinks it is only numbered (and never waits).
   */
  append(alert: FiredAlert, sinks: readonly string[]): { seq: number; durable: Promise<void> } {
    if (this.#closed) throw new Error('alert outbox is closed')
    const seq = this.#nextSeq++
    if (sinks.length === 0) return { seq, durable: Promise.resolve() }
    this.#entries.set(seq, { seq, alert, pending: new Set(sinks) })
    this.#queue({ seq, sinks: [...sinks], alert })
    const durable = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    this.#syncWanted = true
    while (this.#entries.size > this.#opts.maxAlerts) {
      const oldest = this.#entries.values().next().value!
      this.drop(oldest.seq)
      this.#opts.onDrop?.(oldest)
    }
    this.#kick()
    return { seq, durable }
  }

  /** `sink` is done with alert `seq`: it took it, or the sink is gone from the config. */
  settle(seq: number, sink: string): void {
    const e = this.#entries.get(seq)
    if (!e || !e.pending.delete(sink)) return
    if (e.pending.size === 0) this.#entries.delete(seq)
    this.#queue({ done: seq, sink })
    this.#kick()
  }

  /** Gives up on alert `seq` for every sink. */
  drop(seq: number): void {
    if (!this.#entries.delete(seq)) return
    this.#queue({ drop: seq })
    this.#kick()
  }

  /** Resolves once everything queued so far is written and synced. */
  flush(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    this.#syncWanted = true
    this.#kick()
    return done
  }

  /** Writes and syncs what is queued; records made after this are not kept (at-least-once covers them). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.flush().catch((e) => this.#opts.log.error('alert outbox not synced at close', errorMeta(e)))
    while (this.#draining) await this.#writing
    closeSync(this.#fd)
  }

  #queue(record: OutboxRecord): void {
    if (this.#closed) return
    this.#lines.push(`${JSON.stringify(record, alertJsonReplacer)}\n`)
  }

  #kick(): void {
    if (this.#draining) return
    this.#draining = true
    this.#writing = this.#drain()
  }

  /** Writes queued lines until none are left; one write (and at most one fsync) per round. */
  async #drain(): Promise<void> {
    for (;;) {
      if (this.#lines.length === 0 && this.#waiters.length === 0) {
        // Cleared in the same turn as this check, so whatever is queued after it starts a new drain.
        this.#draining = false
        return
      }
      const lines = this.#lines
      const waiters = this.#waiters
      const sync = this.#syncWanted
      this.#lines = []
      this.#waiters = []
      this.#syncWanted = false
      const total = this.#fileLines + lines.length
      try {
        if (this.#rewriteWanted || (total >= (this.#opts.compactAfter ?? 10_000) && total > 2 * (this.#entries.size + 1))) {
          // The live entries already include what `lines` would add, so the rewrite replaces them.
          await this.#rewrite()
        } else {
          const buf = Buffer.from(lines.join(''), 'utf8')
          for (let off = 0; off < buf.length; ) off += (await writeAsync(this.#fd, buf, off, buf.length - off)).bytesWritten
          this.#fileLines = total
          if (sync) await fdatasyncAsync(this.#fd)
        }
        for (const w of waiters) w.resolve()
      } catch (e) {
        // A half-written line would spoil the next one: start over from memory on the next round.
        this.#rewriteWanted = true
        this.#opts.log.error('alert outbox write failed', errorMeta(e))
        for (const w of waiters) w.reject(e)
      }
    }
  }

  #snapshot(): { text: string; lines: number } {
    const out = [`${JSON.stringify({ next: this.#nextSeq })}\n`]
    for (const e of this.#entries.values()) out.push(`${JSON.stringify({ seq: e.seq, sinks: [...e.pending], alert: e.alert }, alertJsonReplacer)}\n`)
    return { text: out.join(''), lines: out.length }
  }

  async #rewrite(): Promise<void> {
    const { text, lines } = this.#snapshot()
    const tmp = `${this.#path}.tmp`
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(text)
      await fh.datasync()
    } finally {
      await fh.close()
    }
    await rename(tmp, this.#path)
    const dir = await open(this.#dir, 'r')
    await dir.sync().finally(() => dir.close())
    closeSync(this.#fd)
    this.#fd = openSync(this.#path, 'a')
    this.#fileLines = lines
    this.#rewriteWanted = false
  }

  #rewriteSync(): void {
    const { text, lines } = this.#snapshot()
    const tmp = `${this.#path}.tmp`
    writeFileSync(tmp, text)
    const fd = openSync(tmp, 'r')
    fsyncSync(fd)
    closeSync(fd)
    renameSync(tmp, this.#path)
    const dir = openSync(this.#dir, 'r')
    fsyncSync(dir)
    closeSync(dir)
    this.#fileLines = lines
  }

  /** Rebuilds the waiting alerts from the file; false if it had a torn or unreadable line. */
  #replay(): boolean {
    let text: string
    try {
      text = readFileSync(this.#path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true
      throw e
    }
    const lines = text.split('\n')
    // Every record ends with a newline, so anything after the last one is a write a crash cut short.
    let clean = lines.pop() === ''
    let bad = 0
    for (const line of lines) {
      let r: OutboxRecord
      try {
        r = JSON.parse(line) as OutboxRecord
      } catch {
        bad++
        continue
      }
      this.#fileLines++
      if ('alert' in r) {
        this.#entries.set(r.seq, { seq: r.seq, alert: r.alert, pending: new Set(r.sinks) })
        this.#nextSeq = Math.max(this.#nextSeq, r.seq + 1)
      } else if ('done' in r) {
        const e = this.#entries.get(r.done)
        e?.pending.delete(r.sink)
        if (e && e.pending.size === 0) this.#entries.delete(r.done)
      } else if ('drop' in r) this.#entries.delete(r.drop)
      else if ('next' in r) this.#nextSeq = Math.max(this.#nextSeq, r.next)
    }
    if (bad > 0) this.#opts.log.warn('alert outbox had unreadable lines; skipped', { file: this.#path, lines: bad })
    if (!clean) this.#opts.log.warn('alert outbox ended in a torn line (a crash mid-write); dropped it', { file: this.#path })
    clean &&= bad === 0
    return clean
  }
}
