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
  /** Rows read from the source so far; kept only when the cursor may go back (SCROLL). */
  readonly seen: Buffer[]
  pulled: number
  /** The row the cursor is on (0 = before the first; pulled + 1 = after the last). */
  pos: number
  current: Buffer | null
  readonly source: ResultStream
  exhausted: boolean
  /**
   * The output settings (TimeZone, DateStyle, ...) its text rows were written under. PostgreSQL
   * writes a row out when it is fetched; the gateway's rows come written, so a FETCH under other
   * output settings is refused rather than answered in the old ones. Undefined for BINARY cursors.
   */
  readonly writtenUnder?: string
  /** The (sub)transaction that declared it; 0 once a committed transaction has kept it (WITH HOLD). */
  createdIn: number
  /** A FETCH of it failed: PostgreSQL runs it no more (55000), even after ROLLBACK TO. */
  failed: boolean
}

/** FETCH ALL and BACKWARD ALL arrive as LONG_MAX, which JSON rounds. */
const ALL = 2 ** 53

export type FetchPlan =
  | { readonly name: string; readonly move: boolean; readonly kind: 'count'; readonly count: number }
  | { readonly name: string; readonly move: boolean; readonly kind: 'absolute' | 'relative'; readonly n: number }

/** Reads a FetchStmt (NEXT, PRIOR, FIRST, LAST, ABSOLUTE n, RELATIVE n, [FORWARD|BACKWARD] n|ALL). */
export function fetchPlan(stmt: AstNode): FetchPlan {
  const name = String(stmt.portalname ?? '')
  const raw = stmt.howMany === undefined ? 0 : Number(stmt.howMany)
  const n = raw >= 9.2e18 ? ALL : raw
  const move = Boolean(stmt.ismove)
  switch (String(stmt.direction ?? 'FETCH_FORWARD')) {
    case 'FETCH_BACKWARD':
      return { name, move, kind: 'count', count: -n }
    case 'FETCH_ABSOLUTE':
      return { name, move, kind: 'absolute', n }
    case 'FETCH_RELATIVE':
      return { name, move, kind: 'relative', n }
    default:
      return { name, move, kind: 'count', count: n }
  }
}

const forwardOnly = () => new PgError(SqlState.ObjectNotInPrerequisiteState, 'cursor can only scan forward', { hint: 'Declare it with SCROLL option to enable backward scan.' })

/**
 * The session's cursors, and the (sub)transactions they belong to, as PostgreSQL keeps portals:
 * a ROLLBACK drops every cursor its transaction declared, WITH HOLD or not; a ROLLBACK TO drops
 * those declared since the savepoint; a COMMIT keeps only WITH HOLD ones, for later transactions.
 */
export class CursorStore {
  readonly #cursors = new Map<string, Cursor>()
  /** Open transaction then savepoints, by id; empty outside a transaction. */
  #levels: number[] = []
  #nextLevel = 1

  add(name: string, hold: boolean, scroll: boolean, source: ResultStream, writtenUnder?: string): void {
    if (this.#cursors.has(name)) throw new PgError(SqlState.DuplicateCursor, `cursor "${name}" already exists`)
    const createdIn = this.#levels[this.#levels.length - 1] ?? 0
    this.#cursors.set(name, { name, hold, scroll, rowDescription: source.rowDescription, seen: [], pulled: 0, pos: 0, current: null, source, exhausted: false, writtenUnder, createdIn, failed: false })
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

  /** A transaction (explicit or implicit) begins. */
  beginTransaction(): void {
    this.#levels = [this.#nextLevel++]
  }

  savepoint(): void {
    if (this.#levels.length) this.#levels.push(this.#nextLevel++)
  }

  /** The (sub)transaction now open, as an id (0 outside a transaction): protocol portals keep it too. */
  get level(): number {
    return this.#levels[this.#levels.length - 1] ?? 0
  }

  /** Whether what was made in this (sub)transaction was rolled back since (ROLLBACK TO). */
  rolledBack(level: number): boolean {
    let at = level
    while (this.#merged.has(at)) at = this.#merged.get(at)!
    return this.#gone.has(at)
  }

  /** Released savepoints' ids, to the level each became part of. */
  readonly #merged = new Map<number, number>()
  /** Ids of subtransactions rolled back in the open transaction. */
  readonly #gone = new Set<number>()

  /** ROLLBACK TO the savepoint of this depth: cursors declared since go; the savepoint stays, anew. */
  rollbackTo(depth: number): void {
    const gone = new Set(this.#levels.splice(depth + 1))
    for (const id of gone) this.#gone.add(id)
    this.#drop((c) => gone.has(c.createdIn))
    this.#levels.push(this.#nextLevel++)
  }

  /** RELEASE of the savepoint of this depth: its cursors now belong to the level around it. */
  release(depth: number): void {
    const merged = new Set(this.#levels.splice(depth + 1))
    const into = this.#levels[this.#levels.length - 1]!
    for (const id of merged) this.#merged.set(id, into)
    for (const c of this.#cursors.values()) if (merged.has(c.createdIn)) c.createdIn = into
  }

  /** At the end of a transaction: cursors without HOLD go; on ROLLBACK, so do those it declared. */
  endTransaction(commit: boolean): void {
    this.#drop((c) => !c.hold || (!commit && c.createdIn !== 0))
    for (const c of this.#cursors.values()) c.createdIn = 0
    this.#levels = []
    this.#merged.clear()
    this.#gone.clear()
  }

  #drop(which: (c: Cursor) => boolean): void {
    for (const [name, c] of this.#cursors) {
      if (!which(c)) continue
      c.source.close()
      this.#cursors.delete(name)
    }
  }

  /** Runs a FETCH or MOVE: the rows to send (none for MOVE) and the count for the tag. */
  async fetch(plan: FetchPlan): Promise<{ rows: Buffer[]; count: number; cursor: Cursor }> {
    const c = this.get(plan.name)
    if (c.failed) throw new PgError(SqlState.ObjectNotInPrerequisiteState, `portal "${c.name}" cannot be run`)
    try {
      return await this.#fetch(c, plan)
    } catch (e) {
      c.failed = true
      throw e
    }
  }

  async #fetch(c: Cursor, plan: FetchPlan): Promise<{ rows: Buffer[]; count: number; cursor: Cursor }> {
    const rows: Buffer[] = []
    if (plan.kind === 'count') {
      if (plan.count >= 0) {
        // FORWARD 0 re-reads the current row.
        if (plan.count === 0) {
          if (c.pos >= 1 && c.pos <= c.pulled && c.current) rows.push(c.current)
        } else {
          for (let i = 0; i < plan.count; i++) {
            const row = await this.#next(c)
            if (!row) break
            rows.push(row)
          }
        }
      } else {
        if (!c.scroll) throw forwardOnly()
        for (let i = 0; i < -plan.count && c.pos > 1; i++) {
          c.pos--
          rows.push(c.seen[c.pos - 1]!)
        }
        if (rows.length < -plan.count) c.pos = 0
      }
      return { rows: plan.move ? [] : rows, count: rows.length, cursor: c }
    }
    let target: number
    if (plan.kind === 'relative') target = c.pos + plan.n
    else if (plan.n >= 0) target = plan.n
    else {
      while (await this.#next(c, true));
      target = c.pulled + 1 + plan.n
    }
    if (target < c.pos && !c.scroll) throw forwardOnly()
    const row = await this.#moveTo(c, target)
    if (row) rows.push(row)
    return { rows: plan.move ? [] : rows, count: rows.length, cursor: c }
  }

  /** Steps forward one row; `peek` reads ahead without moving (to find the end for LAST). */
  async #next(c: Cursor, peek = false): Promise<Buffer | null> {
    if (peek) {
      if (c.exhausted) return null
      const row = await c.source.next()
      if (!row) {
        c.exhausted = true
        return null
      }
      c.pulled++
      if (c.scroll) c.seen.push(row)
      return row
    }
    if (c.pos < c.pulled) {
      c.pos++
      c.current = c.scroll ? c.seen[c.pos - 1]! : null
      return c.current
    }
    if (c.exhausted) {
      c.pos = c.pulled + 1
      return null
    }
    const row = await c.source.next()
    if (!row) {
      c.exhausted = true
      c.pos = c.pulled + 1
      return null
    }
    c.pulled++
    c.pos = c.pulled
    c.current = row
    if (c.scroll) c.seen.push(row)
    return row
  }

  async #moveTo(c: Cursor, target: number): Promise<Buffer | null> {
    if (target <= 0) {
      c.pos = 0
      return null
    }
    if (target <= c.pulled) {
      c.pos = target
      c.current = c.scroll ? c.seen[target - 1]! : c.pos === c.pulled ? c.current : null
      return c.current
    }
    let row: Buffer | null = null
    while (c.pos < target) {
      row = await this.#next(c)
      if (!row) return null
    }
    return row
  }
}
