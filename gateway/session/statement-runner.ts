/**
 * Runs one statement of a session, whichever protocol carried it: transaction control, settings
 * and cursors here; reads on the shadow catalog or the data executor; writes refused (25006).
 */
import { clockFixedSql } from './clock.js'
import { inFormats } from './cursor-formats.js'
import { PgError, featureNotSupported, readOnly } from '../../common/errors/pg-error.js'
import { kept } from '../../common/kept.js'
import { firstParamRef } from '../../common/pg-ast.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { deparseSql } from '../../common/sql-deparse.js'
import { classify, type StatementClass } from './classify.js'
import { copyColumnsCheck, copyOptions, type CopyOptions } from './copy-options.js'
import { CURSOR_OPT, fetchPlan } from './cursors.js'
import { FrameError } from './frame-error.js'
import { LiteralMemo, isLiteralSelect } from './literal-memo.js'
import { unmarkedError } from './placeholders.js'
import { readRewrite } from './read-rewrites.js'
import type { SessionValues } from '../plan/session-values.js'
import type { ResultStream } from './result.js'
import { BufferedResult, RowsThenError } from './result.js'
import type { Session } from './session.js'
import { runSet } from './set-statements.js'
import { SettingsRead, shadowRow } from './shadow-reads.js'
import { parseStatements, type AstNode, type ParsedStatement } from './sql-parse.js'
import { abortedError, noTransaction } from './transaction.js'
import { command } from './command-reply.js'
import { endsFailedBlock, runTransaction } from './transaction-statements.js'
import { quoteIdent } from '../../common/sql-quote.js'
import { decodeBackendMessage } from '../../common/pgwire/index.js'

export type Execution =
  | { readonly kind: 'rows'; readonly result: ResultStream; readonly parameterStatus: readonly Buffer[] }
  | { readonly kind: 'copy'; readonly result: ResultStream; readonly options: CopyOptions }
  | { readonly kind: 'command'; readonly tag: string; readonly notices: readonly Buffer[]; readonly parameterStatus: readonly Buffer[] }

export interface Bound {
  readonly statementName?: string
  readonly paramTypes: readonly number[]
  readonly params: readonly (Buffer | null)[]
  readonly paramFormats: readonly number[]
  readonly resultFormats: readonly number[]
  /** A prepared statement's transaction time at Parse, when PostgreSQL read its 'now' constants. */
  readonly parsedAt?: number
}

const TEXT: Bound = { paramTypes: [], params: [], paramFormats: [], resultFormats: [] }


export class StatementRunner {
  constructor(readonly s: Session) {}

  classify(stmt: ParsedStatement): StatementClass {
    return classify(stmt, this.s.searchPath)
  }

  /** Runs `stmt`; `bound` is null for the simple protocol (text results, no parameters). */
  async run(stmt: ParsedStatement, cls: StatementClass, bound: Bound | null): Promise<Execution> {
    const s = this.s
    // A statement that reads takes the transaction's snapshot (SHOW does not), fixing its modes.
    if ((s.txn === 'open' || s.implicit === 'sync') && stmt.type !== 'VariableShowStmt' && (cls.kind === 'read' || cls.kind === 'declare' || cls.kind === 'fetch' || cls.kind === 'copy')) s.snapshotTaken = true
    if (s.txn === 'failed' && !endsFailedBlock(cls)) throw abortedError()
    switch (cls.kind) {
      case 'transaction':
        return runTransaction(this.s, cls.stmt)
      case 'set':
        return runSet(this.s, stmt, cls.stmt)
      case 'discard':
        if (cls.target === 'ALL') {
          if (s.txn !== 'idle' || s.pipelined) throw new PgError(SqlState.ActiveSqlTransaction, 'DISCARD ALL cannot run inside a transaction block')
          s.settings.resetAll()
          s.cursors.close(null)
          s.extended().closeAll()
          s.extended().deallocateAll()
        }
        return command(`DISCARD ${cls.target}`)
      case 'deallocate':
        if (cls.name === null) s.extended().deallocateAll()
        else s.extended().deallocate(cls.name)
        return command(cls.name === null ? 'DEALLOCATE ALL' : 'DEALLOCATE')
      case 'declare':
        return this.#declare(cls.stmt, bound)
      case 'fetch': {
        const plan = fetchPlan(cls.stmt)
        const declared = s.cursors.get(plan.name).writtenUnder
        if (!plan.move && declared !== undefined && declared !== JSON.stringify(await this.#outputSettings.get())) {
          throw new PgError(SqlState.FeatureNotSupported, `cursor "${plan.name}" was declared under other output settings`, {
            hint: 'Fedgres writes out a cursor\'s rows when it is declared: set TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output before DECLARE.',
          })
        }
        const { rows, count, cursor } = await s.cursors.fetch(plan)
        if (plan.move) return command(`MOVE ${count}`)
        let described = { rowDescription: cursor.rowDescription, rows }
        // A FETCH bound with binary result formats gets them (cursor-formats.ts).
        if (bound?.resultFormats.includes(1) && declared !== undefined && cursor.rowDescription) described = await inFormats(s.runner, s.owner(), cursor.rowDescription, rows, bound.resultFormats)
        return { kind: 'rows', result: new BufferedResult(described.rowDescription, described.rows, `FETCH ${count}`), parameterStatus: [] }
      }
      case 'close-cursor':
        s.cursors.close(cls.name)
        // CLOSE ALL drops the protocol's portals too: they are cursors to PostgreSQL.
        if (cls.name === null) s.extended().closeAll()
        return command(cls.name === null ? 'CLOSE CURSOR ALL' : 'CLOSE CURSOR')
      case 'unlisten':
        return command('UNLISTEN')
      case 'read':
        return this.#read(stmt, cls, bound)
      case 'copy':
        return this.#copy(cls.stmt)
      case 'write':
      case 'unsupported':
      case 'denied':
        throw refusalOf(cls)!
    }
  }

  async #read(stmt: ParsedStatement, cls: Extract<StatementClass, { kind: 'read' }>, bound: Bound | null): Promise<Execution> {
    const rw = readRewrite(this.s, stmt, cls)
    if (!rw) return this.#readAs(stmt, cls, bound)
    if (rw.witness) this.s.runner.witness(rw.witness)
    try {
      const out = await this.#readAs(rw.stmt, cls, bound)
      return rw.settle(out, this.s.runner.unwitness())
    } catch (e) {
      throw await this.#asWritten(stmt, bound, unmarkedError(e))
    } finally {
      this.s.runner.unwitness()
    }
  }

  /**
   * An error of a rewritten statement at a position: the position is in the rewritten text. The
   * client's own text, parsed again without running, gives the error with the client's position.
   */
  async #asWritten(stmt: ParsedStatement, bound: Bound | null, e: unknown): Promise<unknown> {
    if (!(e instanceof FrameError)) return e
    const m = decodeBackendMessage(e.frame)
    if (m.type !== 'ErrorResponse' || m.fields.position === undefined) return e
    const out = await this.s.runner.describe(this.s.owner(), stmt.text, bound?.paramTypes ?? [])
    const again = out.error ? new FrameError(out.error) : undefined
    return again?.code === e.code && again.message === e.message ? again : e
  }

  /**
   * Runs `stmt`: the client's, or it with undefined custom settings hidden (placeholders.ts) and
   * its set_config() calls witnessed (set-config-calls.ts).
   */
  async #readAs(stmt: ParsedStatement, cls: Extract<StatementClass, { kind: 'read' }>, bound: Bound | null): Promise<Execution> {
    const s = this.s
    const b = bound ?? TEXT
    if (cls.target === 'data') {
      if (!bound) noParameters(stmt)
      const result = await s.deps.executor.execute({
        statement: stmt,
        ...b,
        owner: s.owner(),
        runner: s.runner,
        setting: (name) => this.setting(name),
        onCancel: (stop) => s.onCancel(stop),
        connId: s.ctx.connId,
        clock: b.parsedAt === undefined ? { ...s.clock } : { ...s.clock, parsed: b.parsedAt },
        outputSettings: () => this.#outputSettings.get(),
        sessionValues: () => this.#sessionValues.get(),
        searchPath: s.searchPath,
      })
      return { kind: 'rows', result, parameterStatus: [] }
    }
    const memoKey = b.params.length === 0 && isLiteralSelect(stmt) ? LiteralMemo.key(stmt.text, b.resultFormats, (n) => s.settings.lastValueSql(n)) : undefined
    const kept = memoKey === undefined ? undefined : s.deps.literals.get(memoKey)
    if (kept) return { kind: 'rows', result: kept.result!, parameterStatus: [] }
    const owner = s.owner()
    const sql = clockFixedSql(stmt, b.parsedAt === undefined ? s.clock : { ...s.clock, parsed: b.parsedAt }) ?? stmt.text
    const out = bound ? await s.runner.bound(owner, { sql, ...b }) : await s.runner.simple(owner, sql)
    if (memoKey !== undefined) s.deps.literals.put(memoKey, out)
    if (out.error) {
      // Rows made before a run-time error go first, as PostgreSQL sends them.
      if (out.result?.rowDescription && out.result.rows.length > 0) return { kind: 'rows', result: new RowsThenError(out.result, new FrameError(out.error)), parameterStatus: out.parameterStatus }
      throw new FrameError(out.error)
    }
    if (!out.result) return command('', [], out.parameterStatus)
    return { kind: 'rows', result: out.result, parameterStatus: out.parameterStatus }
  }

  /** COPY ... TO STDOUT: its query (or table) read as any statement is, in text or binary. */
  async #copy(f: AstNode): Promise<Execution> {
    const options = copyOptions(f.options as AstNode[] | undefined)
    let sql: string
    if (f.query) sql = deparseSql({ stmts: [{ stmt: f.query }] } as never)
    else {
      const rel = f.relation as AstNode
      const name = [rel.schemaname, rel.relname].filter((x) => x !== undefined).map((x) => quoteIdent(String(x))).join('.')
      const names = ((f.attlist as AstNode[] | undefined) ?? []).map((a) => String((a.String as AstNode).sval))
      copyColumnsCheck(names, options)
      const cols = names.map(quoteIdent)
      sql = `SELECT ${cols.length ? cols.join(', ') : '*'} FROM ${rel.inh === false ? 'ONLY ' : ''}${name}`
    }
    const result = await this.#readInner(sql, options.format === 'binary', 'COPY', (cls, query) => refusalOf(cls) ?? featureNotSupported(`COPY of ${query.type}`))
    return { kind: 'copy', result, options }
  }

  /**
   * The rows of the query inside DECLARE or COPY, in text or binary, with the parameters the
   * client bound to the whole statement (none: a $n in it is 42P02, as in PostgreSQL); `refuse`
   * gives the error for one that is not a read.
   */
  async #readInner(sql: string, binary: boolean, what: string, refuse: (cls: StatementClass, query: ParsedStatement) => PgError, bound: Bound | null = null): Promise<ResultStream> {
    const [query] = parseStatements(sql)
    const cls = this.classify(query!)
    if (cls.kind !== 'read') throw refuse(cls, query!)
    if (!bound) noParameters(query!)
    const exec = await this.#read(query!, cls, { ...(bound ?? TEXT), resultFormats: binary ? [1] : [] })
    if (exec.kind !== 'rows') throw new PgError(SqlState.InternalError, `${what} query returned no rows description`)
    return exec.result
  }

  async #declare(f: AstNode, bound: Bound | null): Promise<Execution> {
    const s = this.s
    const name = String(f.portalname)
    const options = Number(f.options ?? 0)
    const hold = (options & CURSOR_OPT.HOLD) !== 0
    if (!hold && s.txn === 'idle') throw noTransaction('DECLARE CURSOR')
    const queryText = deparseSql({ stmts: [{ stmt: f.query }] } as never)
    const result = await this.#readInner(queryText, (options & CURSOR_OPT.BINARY) !== 0, 'cursor', (cls) => refusalOf(cls) ?? new PgError(SqlState.SyntaxError, 'DECLARE CURSOR must be a SELECT query'), bound)
    const binary = (options & CURSOR_OPT.BINARY) !== 0
    s.cursors.add(name, hold, (options & CURSOR_OPT.SCROLL) !== 0, result, binary ? undefined : JSON.stringify(await this.#outputSettings.get()))
    return command('DECLARE CURSOR')
  }

  /** The settings that shape how values are written out, read from the shadow once per change. */
  readonly #outputSettings = new SettingsRead(
    () => this.s.settings.version,
    async () => {
      const texts = await shadowRow(this.s.runner, this.s.owner(), `SELECT ${OUTPUT_SETTINGS.map((n) => `pg_catalog.current_setting('${n}')`).join(', ')}`)
      return OUTPUT_SETTINGS.map((n, i): [string, string] => [n, texts[i] ?? ''])
    },
  )

  /** client_min_messages: the least severe notice the client is sent (the gateway's own too). */
  async minMessages(): Promise<string> {
    return this.#minMessages.get()
  }

  readonly #minMessages = new SettingsRead(
    () => this.s.settings.version,
    async () => (await shadowRow(this.s.runner, this.s.owner(), "SELECT pg_catalog.current_setting('client_min_messages')"))[0] ?? 'notice',
  )

  /**
   * The settings that decide how a constant is read ('2026-10-01 10:00' by TimeZone, '02/10/2026'
   * by DateStyle, interval '-1 2:03' by IntervalStyle), as the session has them now.
   */
  async inputSettings(): Promise<string> {
    return JSON.stringify((await this.#outputSettings.get()).filter(([n]) => INPUT_SETTINGS.includes(n)))
  }

  /** The session's identity as its shadow session reports it (session_user is current_user: sql-parse.ts). */
  readonly #sessionValues = new SettingsRead(
    () => this.s.settings.version,
    async (): Promise<SessionValues> => {
      const [currentUser, database, version, schema, implicit, explicit] = await shadowRow(
        this.s.runner,
        this.s.owner(),
        'SELECT current_user, pg_catalog.current_database(), pg_catalog.version(), pg_catalog.current_schema(), pg_catalog.current_schemas(true)::text, pg_catalog.current_schemas(false)::text',
      )
      return { currentUser: currentUser!, database: database!, version: version!, schema: schema ?? null, schemas: { implicit: implicit!, explicit: explicit! } }
    },
  )

  /** A setting's value for the executor (`fedgres.edge_timeout`, ...), from the SETs recorded. */
  setting(name: string): string | undefined {
    const sql = this.s.settings.lastValueSql(name.toLowerCase())
    if (!sql) return undefined
    // A startup value (or one the gateway keeps itself) is kept as given.
    const given = this.s.settings.ownValue(name.toLowerCase())
    if (given !== undefined) return given
    const [st] = parseStatements(sql)
    const args = (st?.node.VariableSetStmt as AstNode | undefined)?.args as unknown[] | undefined
    const a = args?.[0] as { A_Const?: { sval?: { sval: string }; ival?: { ival?: number }; boolval?: { boolval?: boolean } } } | undefined
    if (a?.A_Const?.sval) return a.A_Const.sval.sval
    if (a?.A_Const?.ival) return String(a.A_Const.ival.ival ?? 0)
    if (a?.A_Const?.boolval) return a.A_Const.boolval.boolval ? 'on' : 'off'
    return undefined
  }
}

/** The error for a statement Fedgres refuses (a write, an unsupported or a denied statement). */
function refusalOf(cls: StatementClass): PgError | undefined {
  if (cls.kind === 'write') return readOnly(cls.command)
  if (cls.kind === 'unsupported') return featureNotSupported(cls.command)
  if (cls.kind === 'denied') return cls.error
  return undefined
}

/** A statement sent by the simple protocol has no parameters: `$1` in it is an error, as in PostgreSQL. */
function noParameters(stmt: ParsedStatement): void {
  const number = Object.isFrozen(stmt.node) ? kept(firstParams, stmt.node, () => firstParamRef(stmt.node)) : firstParamRef(stmt.node)
  if (number !== 0) throw new PgError(SqlState.UndefinedParameter, `there is no parameter $${number}`)
}

/** The first $n of a tree (0: none), by the parse cache's frozen tree: a repeated statement is walked once. */
const firstParams = new WeakMap<AstNode, number>()

const OUTPUT_SETTINGS = ['TimeZone', 'DateStyle', 'IntervalStyle', 'extra_float_digits', 'bytea_output']
/** Of those, the ones PostgreSQL reads a constant by (when it parses a statement). */
const INPUT_SETTINGS = ['TimeZone', 'DateStyle', 'IntervalStyle']


