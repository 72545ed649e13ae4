/**
 * A statement's result as the wire layer relays it: the RowDescription (already in the client's
 * formats, or null for NoData), DataRows pulled one at a time, then the command tag. Rows may be
 * buffered (the shadow answers whole) or streamed (federated queries).
 */
export interface ResultStream {
  /** NoticeResponse frames to send before any row. */
  readonly notices: readonly Buffer[]
  readonly rowDescription: Buffer | null
  /** The next DataRow frame, or null once the rows are exhausted (the tag is then final). */
  next(): Promise<Buffer | null>
  /**
   * The next row if it is at hand: a DataRow, null at the end, or undefined when it must be
   * awaited with next(). Rows already received cost no promise per row this way.
   */
  take(): Buffer | null | undefined
  /** The CommandComplete tag (e.g. `SELECT 42`); complete once next() returned null. */
  tag(): string
  /** Stops a stream early (portal closed, client gone). */
  close(): void
}

/** A result already in memory. */
export class BufferedResult implements ResultStream {
  #i = 0
  constructor(
    readonly rowDescription: Buffer | null,
    readonly rows: readonly Buffer[],
    readonly completeTag: string,
    readonly notices: readonly Buffer[] = [],
  ) {}
  async next(): Promise<Buffer | null> {
    return this.take()
  }
  take(): Buffer | null {
    return this.#i < this.rows.length ? this.rows[this.#i++]! : null
  }
  /** Synchronous access for cursors (FETCH BACKWARD needs random access). */
  get position(): number {
    return this.#i
  }
  set position(p: number) {
    this.#i = Math.max(0, Math.min(this.rows.length, p))
  }
  tag(): string {
    return this.completeTag
  }
  close(): void {
    this.#i = this.rows.length
  }
}

/**
 * The rows a statement produced before it failed at run time (maybe none), then its error:
 * PostgreSQL sends the row description and those rows, then the ErrorResponse
 * (`SELECT 1/(g-2) FROM generate_series(1, 3) g`).
 */
export class RowsThenError implements ResultStream {
  readonly #rows: BufferedResult
  readonly #error: unknown
  constructor(rows: BufferedResult, error: unknown) {
    this.#rows = rows
    this.#error = error
  }
  get notices(): readonly Buffer[] {
    return this.#rows.notices
  }
  get rowDescription(): Buffer | null {
    return this.#rows.rowDescription
  }
  async next(): Promise<Buffer | null> {
    return this.take()
  }
  take(): Buffer | null {
    const row = this.#rows.take()
    if (row === null) throw this.#error
    return row
  }
  tag(): string {
    return this.#rows.tag()
  }
  close(): void {
    this.#rows.close()
  }
}
