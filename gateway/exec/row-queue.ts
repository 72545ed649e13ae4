/**
 * The rows a shard has received and not yet passed on, first in first out.
 *
 * Not a bare array: `Array#shift` moves every remaining element once the array is too large for
 * V8 to trim in place (past ~16K elements it lives in large-object space). A shard queue holds
 * up to 20,000 rows, so a merge of large replies went quadratic: ORDER BY ... LIMIT 20000 over
 * four edges took 330-380 ms at the gateway against 26-35 ms on central PostgreSQL, most of it
 * in `shift`. Here a row is taken by moving a head index, and the array is compacted once the
 * taken part is at least half of it (each row is copied at most once more, on average).
 */
export class RowQueue {
  #rows: (Buffer | undefined)[] = []
  #head = 0

  get length(): number {
    return this.#rows.length - this.#head
  }

  push(row: Buffer): void {
    this.#rows.push(row)
  }

  shift(): Buffer | undefined {
    const rows = this.#rows
    if (this.#head >= rows.length) return undefined
    const row = rows[this.#head]
    rows[this.#head++] = undefined // let the row go once passed on
    if (this.#head === rows.length) this.clear()
    else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= rows.length) {
      this.#rows = rows.slice(this.#head)
      this.#head = 0
    }
    return row
  }

  clear(): void {
    this.#rows = []
    this.#head = 0
  }
}

/** Taken rows kept before compacting: below this a queue is small, and compacting costs more than it saves. */
const COMPACT_AFTER = 1024
