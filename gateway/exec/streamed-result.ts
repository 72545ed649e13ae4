/**
 * A federated statement's merged rows as the client gets them: OFFSET and LIMIT applied, taken
 * synchronously while they are at hand (no promise per row) and awaited only when a shard must
 * be heard from. Once LIMIT is met, shards still sending are cancelled.
 */
import { BufferedResult, RowsThenError, type ResultStream } from '../session/result.js'
import { nextRow, type MergedRows } from './merge.js'
import type { ShardStream } from './shard-stream.js'

export function limitedRows(
  rowDescription: Buffer | null,
  notices: readonly Buffer[],
  streams: readonly ShardStream[],
  source: MergedRows,
  offset: number,
  limit: number | null,
): ResultStream {
  let sent = 0
  let skipped = 0
  let closed = false
  const stop = () => {
    closed = true
    streams.forEach((s) => s.cancel())
  }
  const take = (): Buffer | null | undefined => {
    if (closed) return null
    if (limit !== null && sent >= limit) {
      // The edges were sent LIMIT limit + offset: one that sent that many rows has only its end to come.
      closed = true
      streams.forEach((s) => s.enough(limit + offset))
      return null
    }
    for (;;) {
      let row: Buffer | null | undefined
      try {
        row = source.take()
      } catch (e) {
        stop()
        throw e
      }
      if (!row) return row
      if (skipped < offset) {
        skipped++
        continue
      }
      sent++
      return row
    }
  }
  // A merge's wait() only resolves; a shard's error comes from take(), which stops the rest.
  const rows = { take, wait: () => source.wait() }
  return {
    notices,
    rowDescription,
    take,
    next: () => nextRow(rows),
    tag: () => `SELECT ${sent}`,
    close: stop,
  }
}

/** Calls `done` once: at the end of the rows, with the error that ended them, or on close. */
export function withCleanup(r: ResultStream, done: (e?: unknown) => void): ResultStream {
  const ended = <T extends Buffer | null | undefined>(row: T): T => {
    if (row === null) done()
    return row
  }
  return {
    notices: r.notices,
    rowDescription: r.rowDescription,
    take() {
      try {
        return ended(r.take())
      } catch (e) {
        done(e)
        throw e
      }
    },
    async next() {
      try {
        return ended(await r.next())
      } catch (e) {
        done(e)
        throw e
      }
    },
    tag: () => r.tag(),
    close() {
      r.close()
      done()
    },
  }
}

/**
 * A statement that failed while it ran: its RowDescription, then the error when the first row is
 * asked for. PostgreSQL reports what fails at run time (a division by zero in an aggregate, a
 * failed cast) at Execute or FETCH, after BindComplete and RowDescription; only what fails while
 * planning is a Bind (or DECLARE) error.
 */
export const failedRows = (rowDescription: Buffer | null, notices: readonly Buffer[], error: unknown): ResultStream =>
  new RowsThenError(new BufferedResult(rowDescription, [], 'SELECT 0', notices), error)
