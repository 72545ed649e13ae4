/**
 * The extended query protocol: named and unnamed prepared statements and portals, several per
 * Sync, Describe of either, Execute with a row limit (PortalSuspended), Close, Flush, and skipping
 * to Sync after an error. Statements run as the statement runner runs them; portals keep their
 * result between Executes.
 * @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { BindMessage, DescribeMessage, ExecuteMessage, FrontendMessage, ParseMessage } from '../../common/pgwire/index.js'
import type { Responder } from '../../common/pgwire/server/responder.js'
import type { StatementClass } from './classify.js'
import { FrameError } from './frame-error.js'
import { sendExecution } from './send.js'
import { timed } from './statement-timeout.js'
import type { Session } from './session.js'
import { parseStatements, walk, type ParsedStatement } from './sql-parse.js'
import type { Outcome } from './shadow-exchange.js'
import type { Bound, Execution } from './statement-runner.js'
import { abortedError } from './transaction.js'
import { endsFailedBlock } from './transaction-statements.js'

interface Prepared {
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

interface Portal {
  readonly prepared: Prepared
  readonly bound: Bound
  execution?: Execution
  done: boolean
  /** Rows sent by earlier Executes (a suspended portal's tag counts only the last Execute's). */
  sent: number
  /** The (sub)transaction it was bound in (CursorStore.level): a ROLLBACK TO past it drops it. */
  readonly level: number
}

/** Reads that passed analysis on the shadow, with their description (Describe S), by search_path, parameter types and text. */
const analysed = new Map<string, Outcome>()
const ANALYSED_KEPT = 2_000

/** As PostgreSQL words them: 'unnamed prepared statement', but 'portal ""' for the unnamed portal. */
const nameOf = (kind: 'statement' | 'portal', name: string) => (kind === 'portal' ? `portal "${name}"` : name === '' ? 'unnamed prepared statement' : `prepared statement "${name}"`)

export class ExtendedProtocol {
  readonly #s: Session
  readonly #statements = new Map<string, Prepared>()
  readonly #portals = new Map<string, Portal>()
  #skipping = false

  constructor(s: Session) {
    this.#s = s
  }

  async handle(msg: FrontendMessage, out: Responder): Promise<void> {
    if (msg.type === 'Sync') return this.#sync(out)
    if (msg.type === 'Flush') return out.flush()
    if (this.#skipping) return
    try {
      if (msg.type !== 'Close') {
        // Outside a block, what runs until Sync is one implicit transaction, from its first message.
        if (this.#s.txn === 'idle' && this.#s.implicit === 'none') this.#s.beginImplicit('sync')
        const armed = this.#timed(msg) ? this.#s.statementTimer.arm() : undefined
        if (armed) await armed
      }
      switch (msg.type) {
        case 'Parse':
          return await this.#parse(msg, out)
        case 'Bind':
          return await this.#bind(msg, out)
        case 'Describe':
          return await this.#describe(msg, out)
        case 'Execute':
          return await this.#execute(msg, out)
        case 'Close':
          if (msg.kind === 'S') this.#statements.delete(msg.name)
          else this.#closePortal(msg.name)
          out.enc.closeComplete()
          return
      }
    } catch (e) {
      this.#fail(e, out)
    }
  }

  /** An error ends what runs until Sync: the messages up to it are skipped. */
  #fail(e: unknown, out: Responder): void {
    this.#s.failed(e, out)
    if (this.#s.implicit === 'sync') this.#s.endImplicit(false)
    this.#skipping = true
  }

  /**
   * A message of the extended protocol that does not decode. Skipped, unread, while skipping to
   * Sync; otherwise its error starts the skip. A Sync that does not decode still ends the skip:
   * its error, then ReadyForQuery (PostgreSQL's SocketBackend resets the skip before reading it).
   */
  async malformed(code: number, error: PgError, out: Responder): Promise<void> {
    if (code === 0x53) {
      this.#fail(error, out)
      return this.#sync(out)
    }
    if (this.#skipping) return
    this.#fail(error, out)
  }

  /** Whether statement_timeout counts the statement a message is for (statement-timeout.ts). */
  #timed(msg: FrontendMessage): boolean {
    if (msg.type === 'Parse') {
      let stmt: ParsedStatement | undefined
      try {
        stmt = parseStatements(msg.sql)[0]
      } catch {
        return true // its syntax error comes from the Parse itself
      }
      return !stmt || timed(stmt, this.#s.statements.classify(stmt))
    }
    const prepared =
      msg.type === 'Bind' ? this.#statements.get(msg.statement)
      : msg.type === 'Execute' ? this.#portals.get(msg.portal)?.prepared
      : msg.type === 'Describe' ? (msg.kind === 'S' ? this.#statements.get(msg.name) : this.#portals.get(msg.name)?.prepared)
      : undefined
    return !prepared || timed(prepared.stmt, prepared.cls)
  }

  /**
   * PostgreSQL analyses a statement at Parse: an unknown column (42703), an undeterminable
   * parameter type (42P18) or an aborted transaction (25P02) fail the Parse, and the name is
   * not taken. A read is checked on the shadow here, once per text, parameter types and
   * search_path across sessions; its description is kept for Describe.
   */
  async #parse(msg: ParseMessage, out: Responder): Promise<void> {
    if (msg.name !== '' && this.#statements.has(msg.name)) throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${msg.name}" already exists`)
    const stmts = parseStatements(msg.sql)
    if (stmts.length > 1) throw new PgError(SqlState.SyntaxError, 'cannot insert multiple commands into a prepared statement')
    const stmt = stmts[0] ?? null
    const cls = stmt && this.#s.statements.classify(stmt)
    if (this.#s.txn === 'failed' && stmt && !endsBlock(cls)) throw abortedError()
    const described = cls?.kind === 'read' ? await this.#analysed(msg.sql, msg.paramTypes) : undefined
    const readUnder = (cls?.kind === 'read' || cls?.kind === 'declare') && hasSettingsConstant(stmt!.node) ? await this.#s.statements.inputSettings() : undefined
    this.#statements.set(msg.name, { sql: msg.sql, stmt, cls, paramTypes: msg.paramTypes, described, readUnder, parsedAt: this.#s.clock.transaction })
    out.enc.parseComplete()
  }

  async #analysed(sql: string, paramTypes: readonly number[]): Promise<Outcome> {
    const s = this.#s
    const key = `${s.searchPath.join(',')}\0${paramTypes.join(',')}\0${sql}`
    const kept = analysed.get(key)
    if (kept) return kept
    const d = await s.runner.describe(s.owner(), sql, paramTypes)
    if (d.error) throw new FrameError(d.error)
    if (analysed.size >= ANALYSED_KEPT) analysed.delete(analysed.keys().next().value!)
    analysed.set(key, d)
    return d
  }

  #prepared(name: string): Prepared {
    const p = this.#statements.get(name)
    if (!p) throw new PgError(SqlState.InvalidSqlStatementName, `${nameOf('statement', name)} does not exist`)
    return p
  }

  #portal(name: string): Portal {
    const p = this.#portals.get(name)
    if (!p) throw new PgError(SqlState.InvalidCursorName, `${nameOf('portal', name)} does not exist`)
    return p
  }

  async #bind(msg: BindMessage, out: Responder): Promise<void> {
    const prepared = this.#prepared(msg.statement)
    if (this.#s.txn === 'failed' && !endsBlock(prepared.cls)) throw abortedError()
    if (msg.portal !== '' && this.#portals.has(msg.portal)) throw new PgError(SqlState.DuplicateCursor, `portal "${msg.portal}" already exists`)
    await this.#sameInputSettings(msg.statement, prepared)
    this.#closePortal(msg.portal)
    const portal: Portal = {
      prepared,
      bound: { statementName: msg.statement, paramTypes: prepared.paramTypes, params: msg.params, paramFormats: msg.paramFormats, resultFormats: msg.resultFormats, parsedAt: prepared.parsedAt },
      done: false,
      sent: 0,
      level: this.#s.cursors.level,
    }
    // PostgreSQL plans a query at Bind, so parameter, planning and many run-time errors
    // (a constant 1/0) are Bind errors; a read therefore starts here, its rows flow at Execute.
    if (prepared.cls?.kind === 'read') await this.#run(portal)
    this.#portals.set(msg.portal, portal)
    out.enc.bindComplete()
  }

  /**
   * PostgreSQL reads a prepared statement's constants once, at Parse, under the settings of then:
   * `time < '2026-10-01 10:00'` prepared under UTC keeps meaning 10:00 UTC after SET TimeZone.
   * Fedgres sends the statement's text each time it runs, read under the settings of now, so it
   * refuses to run one whose constants would be read otherwise (a parameter is read at Bind in
   * both).
   */
  async #sameInputSettings(name: string, prepared: Prepared): Promise<void> {
    if (prepared.readUnder === undefined || prepared.readUnder === (await this.#s.statements.inputSettings())) return
    throw new PgError(SqlState.FeatureNotSupported, `${nameOf('statement', name)} was prepared under other TimeZone, DateStyle or IntervalStyle settings`, {
      hint: 'PostgreSQL reads its constants as they were when it was prepared; Fedgres would read them under the current settings. Prepare it again, or pass such values as parameters.',
    })
  }

  async #describe(msg: DescribeMessage, out: Responder): Promise<void> {
    const s = this.#s
    // In an aborted block PostgreSQL describes only what returns no rows (25P02 otherwise).
    const aborted = () => {
      if (s.txn === 'failed') throw abortedError()
    }
    if (msg.kind === 'S') {
      const p = this.#prepared(msg.name)
      if (p.cls?.kind === 'read' || p.cls?.kind === 'fetch') aborted()
      if (p.cls?.kind === 'read') {
        const d = p.described ?? (await s.runner.describe(s.owner(), p.sql, p.paramTypes))
        if (d.error) throw new FrameError(d.error)
        if (d.paramDescription) out.frame(d.paramDescription)
        if (d.result?.rowDescription) out.frame(d.result.rowDescription)
        else out.enc.noData()
        return
      }
      out.enc.parameterDescription(p.paramTypes)
      if (p.cls?.kind === 'fetch' && !p.cls.stmt.ismove) {
        const cursor = s.cursors.get(String(p.cls.stmt.portalname))
        if (cursor.rowDescription) out.frame(cursor.rowDescription)
        else out.enc.noData()
      } else out.enc.noData()
      return
    }
    const portal = this.#portal(msg.name)
    const cls = portal.prepared.cls
    if (cls?.kind === 'read' || (cls?.kind === 'fetch' && !cls.stmt.ismove)) {
      aborted()
      const ex = await this.#run(portal)
      if (ex.kind === 'rows' && ex.result.rowDescription) out.frame(ex.result.rowDescription)
      else out.enc.noData()
      return
    }
    out.enc.noData()
  }

  async #run(portal: Portal): Promise<Execution> {
    if (!portal.execution) portal.execution = await this.#s.statements.run(portal.prepared.stmt!, portal.prepared.cls!, portal.bound)
    return portal.execution
  }

  async #execute(msg: ExecuteMessage, out: Responder): Promise<void> {
    const portal = this.#portal(msg.portal)
    if (this.#s.txn === 'failed' && !endsBlock(portal.prepared.cls)) throw abortedError()
    if (!portal.prepared.stmt) {
      out.enc.emptyQueryResponse()
      return
    }
    if (portal.done) {
      // Executing a finished portal again returns no more rows, as PostgreSQL does; a finished
      // command (BEGIN, SET, DECLARE) cannot be run again.
      const ex = portal.execution
      if (ex?.kind !== 'rows' && ex?.kind !== 'copy') throw new PgError(SqlState.ObjectNotInPrerequisiteState, `portal "${msg.portal}" cannot be run`)
      out.enc.commandComplete(ex.kind === 'rows' ? countedTag(ex.result.tag(), 0) : 'COPY 0')
      return
    }
    const ex = await this.#run(portal)
    const res = await sendExecution(this.#s, ex, out, { rowDescription: false, maxRows: msg.maxRows, tag: portal.sent > 0 ? (t, n) => countedTag(t, n) : undefined })
    // A completed Execute, suspended or not, ends statement_timeout's count (the next message starts it again).
    this.#s.statementTimer.disarm()
    portal.sent += res.sent
    if (res.complete) portal.done = true
    else out.enc.portalSuspended()
    if (this.#s.implicit === 'sync') this.#s.pipelined = true
  }

  async #sync(out: Responder): Promise<void> {
    this.#s.statementTimer.disarm()
    this.#skipping = false
    // Outside a transaction block each Sync ends the implicit transaction, and with it the portals.
    if (this.#s.implicit === 'sync') this.#s.endImplicit(true)
    if (this.#s.txn === 'idle') this.closeAll()
    await this.#s.readyForQuery(out)
  }

  #closePortal(name: string): void {
    const p = this.#portals.get(name)
    if (p?.execution?.kind === 'rows' || p?.execution?.kind === 'copy') p.execution.result.close()
    this.#portals.delete(name)
  }

  /** A simple Query destroys the unnamed statement and portal. */
  async discardUnnamedPortal(): Promise<void> {
    this.#closePortal('')
    this.#statements.delete('')
  }

  /** After ROLLBACK TO: the portals bound since the savepoint go, as PostgreSQL's do. */
  closeRolledBack(): void {
    for (const [name, p] of [...this.#portals]) if (this.#s.cursors.rolledBack(p.level)) this.#closePortal(name)
  }

  closeAll(): void {
    for (const name of [...this.#portals.keys()]) this.#closePortal(name)
  }

  deallocate(name: string): void {
    if (!this.#statements.delete(name)) throw new PgError(SqlState.InvalidSqlStatementName, `prepared statement "${name}" does not exist`)
  }

  /** DEALLOCATE ALL: the statements go; portals made from them stay, as in PostgreSQL. */
  deallocateAll(): void {
    this.#statements.clear()
  }
}

/** A SELECT/FETCH tag with another row count (PostgreSQL counts the rows of each Execute). */
function countedTag(tag: string, rows: number): string {
  return /^(SELECT|FETCH|MOVE) \d+$/.test(tag) ? tag.replace(/\d+$/, String(rows)) : tag
}

/**
 * Whether a statement has a string constant that TimeZone, DateStyle or IntervalStyle could read
 * otherwise: a date, time or interval has digits ('2026-10-01 10:00', '02/10/2026', '1 2:03'),
 * unless it is one of the clock's words. 'day' in date_trunc('day', time) or 'File' cannot be.
 */
function hasSettingsConstant(node: unknown): boolean {
  let found = false
  walk(node, (type, f) => {
    if (type !== 'A_Const' || found) return
    const text = (f.sval as { sval?: string } | undefined)?.sval
    if (text !== undefined && (/\d/.test(text) || /^\s*(now|today|tomorrow|yesterday)\s*$/i.test(text))) found = true
  })
  return found
}

/** Whether a statement may run in a failed block (see endsFailedBlock); a statement of no class may not. */
const endsBlock = (cls: StatementClass | null): boolean => cls !== null && endsFailedBlock(cls)
