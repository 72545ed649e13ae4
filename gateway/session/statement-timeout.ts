/**
 * statement_timeout for the statements the gateway runs itself: a federated statement's edges
 * and merge are the gateway's, so PostgreSQL's own timer (which the shadow keeps for catalog
 * statements) never sees them. As in PostgreSQL, the timer runs from a statement's arrival: per
 * statement of a simple Query; in the extended protocol from the first Parse, Bind, Describe or
 * Execute until an Execute completes (a suspended portal's next Execute starts it again) or Sync.
 * @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { StatementClass } from './classify.js'
import type { Session } from './session.js'
import { settingMs } from './setting-duration.js'
import { SettingsRead, shadowRow } from './shadow-reads.js'
import type { ParsedStatement } from './sql-parse.js'

export const statementTimeoutError = () => new PgError(SqlState.QueryCanceled, 'canceling statement due to statement timeout')

/**
 * Session commands (SET, SHOW, RESET, BEGIN, COMMIT, DISCARD, ...): PostgreSQL runs them in
 * microseconds, the gateway with a round trip to its catalog engine, which can take longer than a
 * small statement_timeout. Counted, `SET statement_timeout = 2` left a session in which SHOW, SET
 * and RESET themselves timed out, with no way back but a new connection.
 */
const UNTIMED: ReadonlySet<StatementClass['kind']> = new Set(['transaction', 'set', 'discard', 'deallocate', 'close-cursor', 'unlisten'])

/** Whether statement_timeout counts a statement (an empty one, or one not yet known, counts). */
export const timed = (stmt: ParsedStatement | null | undefined, cls: StatementClass | null | undefined): boolean =>
  !(cls && UNTIMED.has(cls.kind)) && stmt?.type !== 'VariableShowStmt'

export class StatementTimer {
  #timer: NodeJS.Timeout | undefined

  constructor(
    /** The session's statement_timeout in ms (0: none), read at each arming; a number when known without asking. */
    readonly limit: () => number | Promise<number>,
    readonly onTimeout: () => void,
    /** A wait the count starts after (the catalog engine finishing the session's cancelled statement). */
    readonly startsAfter: () => Promise<void> | undefined = () => undefined,
  ) {}

  /** Starts the timer unless it runs already; a promise only when it had to wait or read the limit. */
  arm(): void | Promise<void> {
    if (this.#timer) return
    const wait = this.startsAfter()
    if (wait) return wait.then(() => this.arm())
    const ms = this.limit()
    if (typeof ms === 'number') this.#start(ms)
    else return ms.then((v) => this.#start(v))
  }

  #start(ms: number): void {
    if (ms <= 0 || this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.onTimeout()
    }, Math.max(1, Math.round(ms)))
  }

  disarm(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}

/**
 * A session's timer: its statement_timeout is read from its shadow session once per change of its
 * settings (0, unread, when no SET or startup value names it); on timeout `abort` stops the
 * session's statement and the shadow's is cancelled; the count starts once the shadow settled.
 */
export function sessionStatementTimer(s: Session, abort: (err: PgError) => void): StatementTimer {
  const timeout = new SettingsRead(
    () => s.settings.version,
    async () => settingMs((await shadowRow(s.runner, s.owner(), "SELECT pg_catalog.current_setting('statement_timeout')"))[0] ?? '0') ?? 0,
  )
  return new StatementTimer(
    () => (s.settings.lastValueSql('statement_timeout') === undefined ? 0 : timeout.get()),
    () => {
      const err = statementTimeoutError()
      abort(err)
      s.deps.shadow.cancel(s.ctx.connId, err.message)
    },
    () => s.deps.shadow.settled(s.ctx.connId),
  )
}
