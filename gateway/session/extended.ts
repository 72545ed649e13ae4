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
import { hasSettingsConstant, sameInputSettings } from './prepared-constants.js'
import { PreparedStore, type Portal } from './prepared-store.js'
import { sendExecution } from './send.js'
import { timed } from './statement-timeout.js'
import type { Session } from './session.js'
import { parseStatements, type ParsedStatement } from './sql-parse.js'
import type { Outcome } from './shadow-exchange.js'
import type { Execution } from './statement-runner.js'
import { abortedError } from './transaction.js'
import { endsFailedBlock } from './transaction-statements.js'
import { begin } from './activity.js'

/** Reads that passed analysis on the shadow, with their description (Describe S), by search_path, parameter types and text. */
const analysed = new Map<string, Outcome>()
const ANALYSED_KEPT = 2_000

export class ExtendedProtocol {
  readonly #s: Session
  /** Its prepared statements and portals (prepared-store.ts). */
  readonly #named: PreparedStore
  #skipping = false

  constructor(s: Session) {
    this.#s = s
    this.#named = new PreparedStore(s.cursors)
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
          if (msg.kind === 'S') this.#named.statements.delete(msg.name)
          else this.#named.closePortal(msg.name)
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
      msg.type === 'Bind' ? this.#named.statements.get(msg.statement)
      : msg.type === 'Execute' ? this.#named.portals.get(msg.portal)?.prepared
      : msg.type === 'Describe' ? (msg.kind === 'S' ? this.#named.statements.get(msg.name) : this.#named.portals.get(msg.name)?.prepared)
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
    if (msg.name !== '' && this.#named.statements.has(msg.name)) throw new PgError(SqlState.DuplicatePreparedStatement, `prepared statement "${msg.name}" already exists`)
    const stmts = parseStatements(msg.sql)
    if (stmts.length > 1) throw new PgError(SqlState.SyntaxError, 'cannot insert multiple commands into a prepared statement')
    const stmt = stmts[0] ?? null
    const cls = stmt && this.#s.statements.classify(stmt)
    if (this.#s.txn === 'failed' && stmt && !endsBlock(cls)) throw abortedError()
    const described = cls?.kind === 'read' ? await this.#analysed(msg.sql, msg.paramTypes) : undefined
    const readUnder = (cls?.kind === 'read' || cls?.kind === 'declare') && hasSettingsConstant(stmt!.node) ? await this.#s.statements.inputSettings() : undefined
    this.#named.statements.set(msg.name, { sql: msg.sql, stmt, cls, paramTypes: msg.paramTypes, described, readUnder, parsedAt: this.#s.clock.transaction })
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

  async #bind(msg: BindMessage, out: Responder): Promise<void> {
    const prepared = this.#named.statement(msg.statement)
    if (this.#s.txn === 'failed' && !endsBlock(prepared.cls)) throw abortedError()
    if (msg.portal !== '' && this.#named.portals.has(msg.portal)) throw new PgError(SqlState.DuplicateCursor, `portal "${msg.portal}" already exists`)
    await sameInputSettings(this.#s, msg.statement, prepared)
    this.#named.closePortal(msg.portal)
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
    this.#named.portals.set(msg.portal, portal)
    out.enc.bindComplete()
  }

  async #describe(msg: DescribeMessage, out: Responder): Promise<void> {
    const s = this.#s
    // In an aborted block PostgreSQL describes only what returns no rows (25P02 otherwise).
    const aborted = () => {
      if (s.txn === 'failed') throw abortedError()
    }
    if (msg.kind === 'S') {
      const p = this.#named.statement(msg.name)
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
    const portal = this.#named.portal(msg.name)
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
    const portal = this.#named.portal(msg.portal)
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
    begin(this.#s.activity, portal.prepared.stmt.text, this.#s.txn !== 'idle')
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

  /** A simple Query destroys the unnamed statement and portal. */
  async discardUnnamedPortal(): Promise<void> {
    this.#named.discardUnnamed()
  }

  /** After ROLLBACK TO: the portals bound since the savepoint go, as PostgreSQL's do. */
  closeRolledBack(): void {
    this.#named.closeRolledBack()
  }

  closeAll(): void {
    this.#named.closeAll()
  }

  deallocate(name: string): void {
    this.#named.deallocate(name)
  }

  /** DEALLOCATE ALL: the statements go; portals made from them stay, as in PostgreSQL. */
  deallocateAll(): void {
    this.#named.deallocateAll()
  }
}

/** A SELECT/FETCH tag with another row count (PostgreSQL counts the rows of each Execute). */
function countedTag(tag: string, rows: number): string {
  return /^(SELECT|FETCH|MOVE) \d+$/.test(tag) ? tag.replace(/\d+$/, String(rows)) : tag
}

/** Whether a statement may run in a failed block (see endsFailedBlock); a statement of no class may not. */
const endsBlock = (cls: StatementClass | null): boolean => cls !== null && endsFailedBlock(cls)
