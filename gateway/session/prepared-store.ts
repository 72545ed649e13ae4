/**
 * A session's prepared statements and portals, by name (the unnamed ones under ''): found with
 * PostgreSQL's errors and wording, and closed when PostgreSQL closes them (Close, a simple Query,
 * the transaction's end, ROLLBACK TO, CLOSE ALL, DISCARD ALL, DEALLOCATE).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { StatementClass } from './classify.js'
import type { CursorStore } from './cursors.js'
import type { Outcome } from './shadow-exchange.js'
import type { ParsedStatement } from './sql-parse.js'
import type { Bound, Execution } from './statement-runner.js'

export interface Prepared {
  readonly sql: string
  /** null: an empty query string. */
  readonly stmt: ParsedStatement | null
  readonly cls: StatementClass | null
  readonly paramTypes: readonly number[]
  /** A read's ParameterDescription and RowDescription, from its analysis at Parse. */
  readonly described?: Outcome
  /** The settings its string constants were read under at Parse (a read that has some). */
  readonly readUnder?: string
  /** The transaction's time at Parse: what PostgreSQL read its 'now' constants as. */
  readonly parsedAt: number
}

export interface Portal {
  readonly prepared: Prepared
  readonly bound: Bound
  execution?: Execution
  done: boolean
  /** Rows sent by earlier Executes (a suspended portal's tag counts only the last Execute's). */
  sent: number
  /** The (sub)transaction it was bound in (CursorStore.level): a ROLLBACK TO past it drops it. */
  readonly level: number
}

/** As PostgreSQL words them: 'unnamed prepared statement', but 'portal ""' for the unnamed portal. */
export const nameOf = (kind: 'statement' | 'portal', name: string) => (kind === 'portal' ? `portal "${name}"` : name === '' ? 'unnamed prepared statement' : `prepared statement "${name}"`)

export class PreparedStore {
  readonly statements = new Map<string, Prepared>()
  readonly portals = new Map<string, Portal>()

  constructor(readonly cursors: CursorStore) {}

  statement(name: string): Prepared {
    const p = this.statements.get(name)
    if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `${nameOf('statement', name)} does not exist`)
    return p
  }

  portal(name: string): Portal {
    const p = this.portals.get(name)
    if (!p) throw new PgError(SqlState.InvalidCursorName, `${nameOf('portal', name)} does not exist`)
    return p
  }

  closePortal(name: string): void {
    const p = this.portals.get(name)
    if (p?.execution?.kind === 'rows' || p?.execution?.kind === 'copy') p.execution.result.close()
    this.portals.delete(name)
  }

  /** A simple Query destroys the unnamed statement and portal. */
  discardUnnamed(): void {
    this.closePortal('')
    this.statements.delete('')
  }

  /** After ROLLBACK TO: the portals bound since the savepoint go, as PostgreSQL's do. */
  closeRolledBack(): void {
    for (const [name, p] of [...this.portals]) if (this.cursors.rolledBack(p.level)) this.closePortal(name)
  }

  closeAll(): void {
    for (const name of [...this.portals.keys()]) this.closePortal(name)
  }

  deallocate(name: string): void {
    if (!this.statements.delete(name)) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${name}" does not exist`)
  }

  /** DEALLOCATE ALL: the statements go; portals made from them stay, as in PostgreSQL. */
  deallocateAll(): void {
    this.statements.clear()
  }
}
