/**
 * Reads committed-to-be records back from the spool, a batch at a time, split by table and
 * day partition so each part can be COPYed straight into its partition.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs'
import { comparePositions, listSegments, segmentPath, type SpoolPosition } from './spool-files.js'
import type { EventTable } from '../../schema/index.js'

export interface SpoolBatch {
  /** COPY text per table and day (YYYY-MM-DD): the record lines without their table letter. */
  readonly parts: ReadonlyMap<string, { table: EventTable; day: string; chunks: Buffer[]; rows: number }>
  readonly rows: number
  readonly rowsByTable: Readonly<Record<EventTable, number>>
  /** Where the next batch starts. */
  readonly next: SpoolPosition
  /**
   * The segment `from` was in, when its file is gone and the batch moves on to a later one: it
   * was deleted before its records were all read (segments are removed only once committed).
   */
  readonly gone?: number
}

const LETTER_A = 0x61
const LETTER_L = 0x6c

/**
 * Reads records from `from` up to (not past) `to`, at most about `maxBytes` of them.
 * A batch never spans two segments; an empty batch whose `next` differs from `from` means
 * "move on to the next segment".
 */
export function readBatch(dir: string, from: SpoolPosition, to: SpoolPosition, maxBytes: number): SpoolBatch {
  const parts = new Map<string, { table: EventTable; day: string; chunks: Buffer[]; rows: number }>()
  const rowsByTable = { alerts: 0, logs: 0 }
  const empty = (next: SpoolPosition): SpoolBatch => ({ parts, rows: 0, rowsByTable, next })
  if (comparePositions(from, to) >= 0) return empty(from)
  const path = segmentPath(dir, from.segment)
  if (!existsSync(path)) {
    // Segments are removed once committed: this one was deleted under the agent. Move on to the
    // next one that exists (the writer starts one when it finds its own deleted).
    const later = listSegments(dir).find((s) => s > from.segment && s <= to.segment)
    return later === undefined ? empty(from) : { ...empty({ segment: later, offset: 0 }), gone: from.segment }
  }
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const limit = from.segment < to.segment ? size : Math.min(size, to.offset)
    if (from.offset >= limit) {
      const later = from.segment < to.segment ? listSegments(dir).find((s) => s > from.segment && s <= to.segment) : undefined
      return empty(later === undefined ? from : { segment: later, offset: 0 })
    }
    const want = Math.min(limit - from.offset, maxBytes)
    const buf = Buffer.allocUnsafe(want)
    let got = 0
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, from.offset + got)
      if (n === 0) break
      got += n
    }
    const lastNl = buf.subarray(0, got).lastIndexOf(10)
    if (lastNl < 0) {
      // A single record larger than maxBytes: read it whole.
      if (want < limit - from.offset) return readBatch(dir, from, to, maxBytes * 2)
      throw new Error(`spool segment ${from.segment} has a torn record at offset ${from.offset}`)
    }
    const end = lastNl + 1
    let rows = 0
    for (let pos = 0; pos < end; ) {
      const nl = buf.indexOf(10, pos)
      const letter = buf[pos]
      const table: EventTable = letter === LETTER_A ? 'alerts' : letter === LETTER_L ? 'logs' : fail(from, pos)
      // The time column comes first: "YYYY-MM-DDTHH:..." right after the letter.
      const day = buf.toString('latin1', pos + 1, pos + 11)
      const key = `${table}/${day}`
      let part = parts.get(key)
      if (!part) parts.set(key, (part = { table, day, chunks: [], rows: 0 }))
      part.chunks.push(buf.subarray(pos + 1, nl + 1))
      part.rows++
      rowsByTable[table]++
      rows++
      pos = nl + 1
    }
    return { parts, rows, rowsByTable, next: { segment: from.segment, offset: from.offset + end } }
  } finally {
    closeSync(fd)
  }
}

function fail(at: SpoolPosition, pos: number): never {
  throw new Error(`spool segment ${at.segment} is corrupt at offset ${at.offset + pos}: unknown record type`)
}
