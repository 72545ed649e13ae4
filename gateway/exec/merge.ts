/**
 * The k-way merge of shards that each return rows in ORDER BY order. Sort keys travel as
 * trailing columns in binary, compared as PostgreSQL compares them (the database collation is
 * C, so text compares byte-wise), and are cut before rows are relayed.
 */
import { dataRowWithoutTrailing } from '../../common/pgwire/index.js'
import type { SortKey } from '../plan/types.js'

/** Rows in order from one shard: a live ShardStream, or rows already received. */
export interface RowSource {
  next(): Promise<Buffer | null>
  /** A row if one is queued, null at the end, undefined if it must wait. */
  take(): Buffer | null | undefined
  readonly ready: boolean
  wait(): Promise<void>
}

export class BufferedSource implements RowSource {
  #i = 0
  constructor(readonly rows: readonly Buffer[]) {}
  async next(): Promise<Buffer | null> {
    return this.rows[this.#i++] ?? null
  }
  take(): Buffer | null {
    return this.rows[this.#i++] ?? null
  }
  readonly ready = true
  async wait(): Promise<void> {}
}

/** The last `n` fields of a DataRow (null for SQL NULL). */
export function trailingFields(frame: Buffer, n: number): (Buffer | null)[] {
  const count = frame.readInt16BE(5)
  let pos = 7
  const out: (Buffer | null)[] = []
  for (let i = 0; i < count; i++) {
    const len = frame.readInt32BE(pos)
    pos += 4
    if (i >= count - n) out.push(len < 0 ? null : frame.subarray(pos, pos + len))
    if (len > 0) pos += len
  }
  return out
}

function compareValue(a: Buffer, b: Buffer, key: SortKey): number {
  switch (key.type) {
    case 'int':
    case 'timestamptz': {
      // Big-endian two's complement: the high words compare signed, then the low words unsigned
      // (no BigInt: it allocated, and was most of a top-N merge's time).
      if (a.length === 8 && b.length === 8) {
        const hi = a.readInt32BE(0) - b.readInt32BE(0)
        return hi !== 0 ? Math.sign(hi) : Math.sign(a.readUInt32BE(4) - b.readUInt32BE(4))
      }
      const x = intValue(a)
      const y = intValue(b)
      return x < y ? -1 : x > y ? 1 : 0
    }
    case 'bool':
      return a[0]! - b[0]!
    case 'text':
      return Buffer.compare(a, b)
  }
}

/** An int2 or int4 key (a key column has one type on every edge, so widths never mix but here). */
function intValue(v: Buffer): number {
  if (v.length === 8) return v.readInt32BE(0) * 2 ** 32 + v.readUInt32BE(4)
  return v.length === 4 ? v.readInt32BE(0) : v.readInt16BE(0)
}

export function compareKeys(a: readonly (Buffer | null)[], b: readonly (Buffer | null)[], keys: readonly SortKey[]): number {
  for (const k of keys) {
    const x = a[k.column]!
    const y = b[k.column]!
    let c: number
    if (x === null || y === null) {
      if (x === y) continue
      c = (x === null) === k.nullsFirst ? -1 : 1
      if (c !== 0) return c
      continue
    }
    c = compareValue(x, y, k)
    if (c !== 0) return k.desc ? -c : c
  }
  return 0
}

interface Head {
  readonly stream: RowSource
  row: Buffer
  keys: (Buffer | null)[]
}

/** Merged rows: taken while they are at hand, awaited only when a shard must be heard from. */
export interface MergedRows {
  /** A row, null at the end, or undefined when wait() must be awaited first. */
  take(): Buffer | null | undefined
  /** Resolves when take() may have an answer. */
  wait(): Promise<void>
}

/** The next merged row, waiting as long as it takes. */
export async function nextRow(m: MergedRows): Promise<Buffer | null> {
  for (;;) {
    const row = m.take()
    if (row !== undefined) return row
    await m.wait()
  }
}

/** Merges sorted shard streams; yields client rows (sort key columns cut). */
export class SortedMerge implements MergedRows {
  readonly #heads: Head[] = []
  #started = false
  /** The stream whose head was passed on last: its next row is needed before the next comparison. */
  #refill: RowSource | undefined
  /** DISTINCT ON: the group keys, and those of the last row passed on. */
  readonly #groupKeys: readonly SortKey[]
  #last: (Buffer | null)[] | undefined

  constructor(
    readonly streams: readonly RowSource[],
    readonly keys: readonly SortKey[],
    readonly visibleColumns: number,
    /** DISTINCT ON: the first this many keys make a group; only its first row is passed on. */
    distinctOn = 0,
  ) {
    this.#groupKeys = keys.slice(0, distinctOn)
  }

  /** Takes a ready stream's next row into the heads, keeping them sorted. */
  #fill(stream: RowSource): void {
    const row = stream.take()
    if (!row) return
    const head = { stream, row, keys: trailingFields(row, this.keys.length) }
    // The heads are kept in reverse order, the next row last. k is small: a linear insert beats
    // a heap here (and moving the heads by hand beats splice). Equal keys go in arrival order.
    const heads = this.#heads
    let i = heads.length
    heads.push(head)
    while (i > 0 && compareKeys(heads[i - 1]!.keys, head.keys, this.keys) <= 0) {
      heads[i] = heads[i - 1]!
      i--
    }
    heads[i] = head
  }

  take(): Buffer | null | undefined {
    for (;;) {
      if (!this.#started) {
        // The first row needs every stream's first row (or end).
        for (const s of this.streams) if (!s.ready) return undefined
        this.#started = true
        for (const s of this.streams) this.#fill(s)
      } else if (this.#refill) {
        if (!this.#refill.ready) return undefined
        this.#fill(this.#refill)
        this.#refill = undefined
      }
      const head = this.#heads.pop()
      if (!head) return null
      this.#refill = head.stream
      // A group's rows are adjacent (its keys lead the order): each edge sent its first, and the
      // first of those is the group's. Equal keys are equal bytes (text compares byte-wise).
      if (this.#groupKeys.length > 0) {
        if (this.#last && compareKeys(this.#last, head.keys, this.#groupKeys) === 0) continue
        this.#last = head.keys
      }
      return dataRowWithoutTrailing(head.row, this.visibleColumns)
    }
  }

  async wait(): Promise<void> {
    if (this.#started) await this.#refill?.wait()
    else await Promise.all(this.streams.map((s) => s.wait()))
  }
}

/** Rows from whichever shard has one first: the client sees rows before the slowest edge ends. */
export class ArrivalMerge implements MergedRows {
  readonly #live: RowSource[]
  constructor(streams: readonly RowSource[]) {
    this.#live = [...streams]
  }

  take(): Buffer | null | undefined {
    const live = this.#live
    for (let i = 0; i < live.length; ) {
      const row = live[i]!.take()
      if (row === null) live.splice(i, 1)
      else if (row !== undefined) return row
      else i++
    }
    return live.length === 0 ? null : undefined
  }

  async wait(): Promise<void> {
    await Promise.race(this.#live.map((s) => s.wait()))
  }
}
