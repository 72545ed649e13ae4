/**
 * SQL-level cursors: DECLARE ... CURSOR [WITH HOLD] FOR, FETCH, MOVE, CLOSE. psqlODBC's
 * UseDeclareFetch, psycopg2's named cursors and older Tableau fetch through them.
 * @see https://www.postgresql.org/docs/current/sql-fetch.html
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { ResultStream } from './result.js'
import type { AstNode } from './sql-parse.js'

/** DeclareCursorStmt option bits (PostgreSQL's parsenodes.h). */
export const CURSOR_OPT = { BINARY: 0x1, SCROLL: 0x2, NO_SCROLL: 0x4, HOLD: 0x20 } as const

export interface Cursor {
  readonly name: string
  readonly hold: boolean
  readonly scroll: boolean
  readonly rowDescription: Buffer | null
  /** Rows fetched so far, kept only when the cursor can go back (SCROLL). */
  readonly seen: Buffer[]
  /** Rows pulled from the source so far, and the last one (FETCH 0 re-reads it). */
  pulled: number
  current: Buffer | null
  /** Position: the number of rows before the cursor (0 = before the first row). */
  pos: number
  readonly source: ResultStream
  exhausted: boolean
}

const FETCH_ALL = 2 ** 53

export interface FetchPlan {
  readonly name: string
  readonly move: boolean
  /** Rows to step, negative for backward; for absolute, the target position. */
  readonly count: number
  readonly absolute: boolean
}

/** Reads a FetchStmt (`FETCH FORWARD 10 FROM c`, `MOVE ABSOLUTE 0 IN c`, `FETCH ALL c`). */
export function fetchPlan(stmt: AstNode): FetchPlan {
  const name = String(stmt.portalname ?? '')
  const raw = stmt.howMany === undefined ? 1 : Number(stmt.howMany)
  // FETCH ALL arrives as LONG_MAX (which JSON rounds); FETCH 0 fetches the current row again.
  const howMany = raw >= 9.2e18 ? FETCH_ALL : raw
  const dir = String(stmt.direction ?? 'FETCH_FORWARD')
  const move = Boolean(stmt.ismove)
  switch (dir) {
    case 'FETCH_BACKWARD':
      return { name, move, count: -howMany, absolute: false }
    case 'FETCH_ABSOLUTE':
      return { name, move, count: howMany, absolute: true }
    case 'FETCH_RELATIVE':
      return { name, move, count: howMany, absolute: false }
    default:
      return { name, move, count: howMany, absolute: false }
  }
}

export class CursorStore {
  readonly #cursors = new Map<string, Cursor>()

  add(name: string, hold: boolean, scroll: boolean, source: ResultStream): void {
    if (this.#cursors.has(name)) throw new PgError(SqlState.DuplicateCursor, `cursor "${name}" already exists`)
    this.#cursors.set(name, { name, hold, scroll, rowDescription: source.rowDescription, seen: [], pos: 0, pulled: 0, current: null, source, exhausted: false })
  }

  get(name: string): Cursor {
    const c = this.#cursors.get(name)
    if (!c) throw new PgError(SqlState.InvalidCursorName, `cursor "${name}" does not exist`)
    return c
  }

  close(name: string | null): void {
    if (name === null) {
      for (const c of this.#cursors.values()) c.source.close()
      this.#cursors.clear()
      return
    }
    this.get(name).source.close()
    this.#cursors.delete(name)
  }

  /** At the end of a transaction: cursors without HOLD go. */
  endTransaction(): void {
    for (const [name, c] of this.#cursors) {
      if (!c.hold) {
        c.source.close()
        this.#cursors.delete(name)
      }
    }
  }

  /** Runs a FETCH or MOVE: returns the rows to send (none for MOVE) and the count for the tag. */
  async fetch(plan: FetchPlan): Promise<{ rows: Buffer[]; count: number; cursor: Cursor }> {
    const c = this.get(plan.name)
    const target = plan.absolute ? (plan.count >= 0 ? plan.count : Infinity) : c.pos + plan.count
    const backward = plan.absolute ? target < c.pos : plan.count < 0
    if (backward && !c.scroll) throw new PgError(SqlState.ObjectNotInPrerequisiteState, 'cursor can only scan forward', { hint: 'Declare it with SCROLL option to enable backward scan.' })
    const rows: Buffer[] = []
    if (!backward) {
      // Forward: fetch rows pos+1 .. target (a FETCH 0 / RELATIVE 0 re-reads the current row).
      if (!plan.absolute && plan.count === 0) {
        if (c.pos > 0 && c.pos <= c.pulled && c.current) rows.push(c.current)
        return { rows: plan.move ? [] : rows, count: rows.length, cursor: c }
      }
      while (c.pos < target) {
        const row = await this.#rowAt(c, c.pos)
        if (!row) {
          c.pos = c.pulled + 1 // after the last row
          break
        }
        c.pos++
        if (!plan.absolute || c.pos === target) rows.push(row)
      }
    } else {
      const stop = Math.max(0, target)
      while (c.pos > stop) {
        c.pos--
        if (c.pos > 0 && (!plan.absolute || c.pos === stop)) rows.push(c.seen[c.pos - 1]!)
        else if (c.pos === 0) break
      }
    }
    return { rows: plan.move ? [] : rows, count: rows.length, cursor: c }
  }

  /** The row at 0-based `index`: kept (scroll), or the next one from the source. */
  async #rowAt(c: Cursor, index: number): Promise<Buffer | null> {
    if (index < c.pulled) return c.scroll ? c.seen[index]! : null
    if (c.exhausted) return null
    const row = await c.source.next()
    if (!row) {
      c.exhausted = true
      return null
    }
    c.pulled++
    c.current = row
    if (c.scroll) c.seen.push(row)
    return row
  }
}
