/**
 * Moves records from the spool into PGlite: a batch at a time, each part COPYed straight into its
 * day partition, and the spool position recorded in the same transaction. After a crash the
 * store resumes from that position, so every spooled record is committed exactly once.
 */
import type { PGlite } from '@electric-sql/pglite'
import { BackendDecoder, FrontendEncoder } from '../../common/pgwire/index.js'
import { RemotePgError } from '../../common/errors/pg-error.js'
import { createDayPartition, dayPartitionName, type EventTable } from '../../schema/index.js'
import { comparePositions, type SpoolPosition } from '../spool/spool-files.js'
import { readBatch, type SpoolBatch } from '../spool/spool-reader.js'

/** The most COPY data sent to PGlite in one protocol call (see Committer.#copy). */
export const COPY_MESSAGE_BYTES = 1 << 20

export interface CommitResult {
  readonly rows: number
  readonly rowsByTable: Record<EventTable, number>
  readonly rejected: number
  readonly rejectError?: string
}

export class Committer {
  readonly #db: PGlite
  readonly #spoolDir: string
  readonly #batchBytes: number
  readonly #partitions = new Set<string>()
  committed: SpoolPosition
  /** Told the rows each committed transaction added to each relation (partition, else table). */
  onRows: (relation: string, table: EventTable, rows: number) => void = () => {}
  /** Told of a spool segment found deleted before all its records were committed (see SpoolBatch.gone). */
  onSegmentGone: (segment: number) => void = () => {}

  constructor(db: PGlite, spoolDir: string, batchBytes: number, committed: SpoolPosition) {
    this.#db = db
    this.#spoolDir = spoolDir
    this.#batchBytes = batchBytes
    this.committed = committed
  }

  /** After a partition was dropped: a late event for its day creates it again. */
  forgetPartition(name: string): void {
    this.#partitions.delete(name)
  }

  async loadPartitions(): Promise<void> {
    const res = await this.#db.query<{ name: string }>(
      `select n.nspname || '.' || c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_namespace n on n.oid = c.relnamespace`,
    )
    for (const r of res.rows) this.#partitions.add(r.name)
  }

  /** Reads the next batch below `to`; null when there is nothing left. */
  nextBatch(to: SpoolPosition): SpoolBatch | null {
    while (comparePositions(this.committed, to) < 0) {
      const batch = readBatch(this.#spoolDir, this.committed, to, this.#batchBytes)
      if (batch.rows > 0) return batch
      if (comparePositions(batch.next, this.committed) === 0) return null
      if (batch.gone !== undefined) this.onSegmentGone(batch.gone)
      this.committed = batch.next
    }
    return null
  }

  /** Commits one batch; `synopsis` (if given) is stored in the same transaction. */
  async commit(batch: SpoolBatch, synopsis: unknown): Promise<CommitResult> {
    const db = this.#db
    for (const part of batch.parts.values()) {
      const name = dayPartitionName(part.table, part.day)
      if (!this.#partitions.has(name) && /^\d{4}-\d{2}-\d{2}$/.test(part.day)) {
        await db.exec(createDayPartition(part.table, part.day))
        this.#partitions.add(name)
      }
    }
    await db.exec('BEGIN')
    try {
      for (const part of batch.parts.values()) {
        await this.#copy(this.#target(part.table, part.day), part.chunks)
      }
      await this.#recordPosition(batch, synopsis)
      await db.exec('COMMIT')
      this.committed = batch.next
      for (const part of batch.parts.values()) this.onRows(this.#target(part.table, part.day), part.table, part.rows)
      return { rows: batch.rows, rowsByTable: { ...batch.rowsByTable }, rejected: 0 }
    } catch (e) {
      await db.exec('ROLLBACK')
      // Only a row's own fault (bad data, a constraint) is worth a row-by-row retry. A full disk, an
      // I/O error or an internal error is the store's: retried row by row, each row would be filed
      // in rejected_rows (wherever that insert still fits) as if it were malformed.
      const code = (e as { code?: string }).code ?? ''
      if (/^(53|54|57|58|XX)/.test(code) || !/^[0-9A-Z]{5}$/.test(code)) throw e
      return this.#commitRowByRow(batch, synopsis, e)
    }
  }

  /**
   * Commits a whole staging spool (an import) in one transaction, with `synopsis`: all or nothing.
   * Returns the rows stored per table. `afterBatch` runs after each batch inside the transaction
   * (the store checkpoints there: a checkpoint needs no transaction boundary, and a large import
   * would otherwise keep all its WAL until it commits).
   */
  async commitAll(dir: string, synopsis: unknown, afterBatch: () => Promise<unknown> = async () => {}): Promise<Record<EventTable, number>> {
    const end = { segment: Number.MAX_SAFE_INTEGER, offset: 0 }
    const batches = (fn: (b: SpoolBatch) => Promise<void>) => async () => {
      let at: SpoolPosition = { segment: 1, offset: 0 }
      for (;;) {
        const b = readBatch(dir, at, end, this.#batchBytes)
        if (b.rows > 0) await fn(b)
        else if (comparePositions(b.next, at) === 0) return
        at = b.next
      }
    }
    await batches(async (b) => {
      for (const part of b.parts.values()) {
        const name = dayPartitionName(part.table, part.day)
        if (!this.#partitions.has(name) && /^\d{4}-\d{2}-\d{2}$/.test(part.day)) {
          await this.#db.exec(createDayPartition(part.table, part.day))
          this.#partitions.add(name)
        }
      }
    })()
    const rows = { alerts: 0, logs: 0 }
    const byRelation = new Map<string, { table: EventTable; rows: number }>()
    await this.#db.exec('BEGIN')
    try {
      await batches(async (b) => {
        for (const part of b.parts.values()) {
          const target = this.#target(part.table, part.day)
          await this.#copy(target, part.chunks)
          rows[part.table] += part.rows
          const r = byRelation.get(target) ?? { table: part.table, rows: 0 }
          r.rows += part.rows
          byRelation.set(target, r)
        }
        await afterBatch()
      })()
      await this.#db.query(`UPDATE fedgres_internal.spool_state SET synopsis = $1 WHERE id = 1`, [JSON.stringify(synopsis)])
      await this.#db.exec('COMMIT')
    } catch (e) {
      await this.#db.exec('ROLLBACK')
      throw e
    }
    for (const [relation, r] of byRelation) this.onRows(relation, r.table, r.rows)
    return rows
  }

  readonly #encoder = new FrontendEncoder()

  /**
   * COPY FROM STDIN with the query, the data and CopyDone in one protocol call. (PGlite takes a
   * COPY's data only in the same call as its query; this path also skips the Blob machinery of
   * COPY FROM '/dev/blob', about a tenth of the worker's time.) A part larger than
   * COPY_MESSAGE_BYTES is sent as several COPYs in the same transaction: the whole message sits in
   * PGlite's wasm memory at once, which never shrinks again, so one 4 MiB message cost the agent
   * about 18 MB of peak RSS more than 2 MiB batches did.
   */
  async #copy(target: string, chunks: readonly Buffer[]): Promise<void> {
    let from = 0
    while (from < chunks.length) {
      let bytes = 0
      let to = from
      while (to < chunks.length && (to === from || bytes + chunks[to]!.length <= COPY_MESSAGE_BYTES)) bytes += chunks[to++]!.length
      await this.#copyMessage(target, chunks, from, to)
      from = to
    }
  }

  async #copyMessage(target: string, chunks: readonly Buffer[], from: number, to: number): Promise<void> {
    this.#encoder.query(`COPY ${target} FROM STDIN`)
    for (let i = from; i < to; i++) this.#encoder.copyData(chunks[i]!)
    const reply = await this.#db.execProtocolRaw(this.#encoder.copyDone().take())
    const dec = new BackendDecoder()
    dec.push(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength))
    for (let m = dec.next(); m; m = dec.next()) {
      if (m.type === 'ErrorResponse') throw new RemotePgError({ ...m.fields, severity: m.fields.severity ?? 'ERROR', code: m.fields.code ?? 'XX000', message: m.fields.message ?? 'COPY failed' })
    }
  }

  #target(table: EventTable, day: string): string {
    const name = dayPartitionName(table, day)
    return this.#partitions.has(name) ? name : `public.${table}`
  }

  async #recordPosition(batch: SpoolBatch, synopsis: unknown): Promise<void> {
    await this.#db.query(
      `UPDATE fedgres_internal.spool_state SET segment = $1, "offset" = $2, committed = committed + $3${synopsis === undefined ? '' : ', synopsis = $4'} WHERE id = 1`,
      synopsis === undefined ? [batch.next.segment, batch.next.offset, batch.rows] : [batch.next.segment, batch.next.offset, batch.rows, JSON.stringify(synopsis)],
    )
  }

  /**
   * A batch that fails as a whole is retried a row at a time: rows PostgreSQL rejects are kept,
   * with the error, in fedgres_internal.rejected_rows; none is dropped and none blocks the spool.
   */
  async #commitRowByRow(batch: SpoolBatch, synopsis: unknown, firstError: unknown): Promise<CommitResult> {
    const db = this.#db
    const rowsByTable = { alerts: 0, logs: 0 }
    const byRelation = new Map<string, { table: EventTable; rows: number }>()
    let rejected = 0
    let rejectError = firstError instanceof Error ? firstError.message : String(firstError)
    await db.exec('BEGIN')
    try {
      for (const part of batch.parts.values()) {
        for (const chunk of part.chunks) {
          await db.exec('SAVEPOINT row_sp')
          try {
            await this.#copy(this.#target(part.table, part.day), [chunk])
            await db.exec('RELEASE SAVEPOINT row_sp')
            rowsByTable[part.table]++
            const target = this.#target(part.table, part.day)
            const r = byRelation.get(target) ?? { table: part.table, rows: 0 }
            r.rows++
            byRelation.set(target, r)
          } catch (e) {
            await db.exec('ROLLBACK TO SAVEPOINT row_sp')
            rejectError = e instanceof Error ? e.message : String(e)
            // Kept as text: a NUL (PostgreSQL text holds none) must not fail this insert too, and the batch with it.
            const line = chunk.toString('utf8').replaceAll('\u0000', '\uFFFD')
            await db.query(`INSERT INTO fedgres_internal.rejected_rows (tbl, line, error) VALUES ($1, $2, $3)`, [part.table, line, rejectError.replaceAll('\u0000', '\uFFFD')])
            rejected++
          }
        }
      }
      await this.#recordPosition(batch, synopsis)
      await db.exec('COMMIT')
    } catch (e) {
      await db.exec('ROLLBACK')
      throw e
    }
    this.committed = batch.next
    for (const [relation, r] of byRelation) this.onRows(relation, r.table, r.rows)
    return { rows: rowsByTable.alerts + rowsByTable.logs, rowsByTable, rejected, rejectError }
  }
}
