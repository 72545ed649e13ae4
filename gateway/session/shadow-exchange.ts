/**
 * Runs statements on the shadow catalog and splits its replies into what the client gets.
 * The shadow speaks real PostgreSQL, so types, binary formats, errors and parameter
 * descriptions come out exactly as PostgreSQL produces them; rows are relayed as raw frames.
 */
import { BackendCode, BackendEncoder, FrontendEncoder, decodeBackendMessage, type ErrorFields, type FormatCode } from '../../common/pgwire/index.js'
import { PgError, RemotePgError } from '../../common/errors/pg-error.js'
import type { Shadow, ShadowOwner } from '../catalog/shadow.js'
import { BufferedResult } from './result.js'

/** Frames of a reply, with their type byte. */
export function* frames(reply: Buffer): Generator<Buffer> {
  for (let pos = 0; pos + 5 <= reply.length; ) {
    const len = reply.readInt32BE(pos + 1)
    yield reply.subarray(pos, pos + 1 + len)
    pos += 1 + len
  }
}

export function errorOf(frame: Buffer): RemotePgError {
  const m = decodeBackendMessage(frame)
  if (m.type !== 'ErrorResponse') throw new Error('not an ErrorResponse')
  return remoteError(m.fields)
}

export function remoteError(f: ErrorFields): RemotePgError {
  return new RemotePgError({ severity: f.severity, code: f.code, message: f.message, detail: f.detail, hint: f.hint, position: f.position, file: f.file, line: f.line, routine: f.routine })
}

/** What one statement's exchange produced. */
export interface Outcome {
  readonly result: BufferedResult | null
  /** ParameterStatus frames (a SET changed a reported setting). */
  readonly parameterStatus: readonly Buffer[]
  /** The error, with all its fields, as the client must see it. */
  readonly error: Buffer | null
  readonly paramDescription: Buffer | null
  readonly emptyQuery: boolean
}

export function splitReply(reply: Buffer): Outcome {
  let rowDescription: Buffer | null = null
  let noData = false
  const rows: Buffer[] = []
  const notices: Buffer[] = []
  const parameterStatus: Buffer[] = []
  let tag: string | null = null
  let error: Buffer | null = null
  let paramDescription: Buffer | null = null
  let emptyQuery = false
  for (const f of frames(reply)) {
    switch (f[0]) {
      case BackendCode.DataRow:
        rows.push(f)
        break
      case BackendCode.RowDescription:
        rowDescription = f
        break
      case BackendCode.NoData:
        noData = true
        break
      case BackendCode.CommandComplete:
        tag = f.toString('utf8', 5, f.length - 1)
        break
      case BackendCode.ErrorResponse:
        error ??= f
        break
      case BackendCode.NoticeResponse:
        notices.push(f)
        break
      case BackendCode.ParameterStatus:
        parameterStatus.push(f)
        break
      case BackendCode.ParameterDescription:
        paramDescription = f
        break
      case BackendCode.EmptyQueryResponse:
        emptyQuery = true
        break
    }
  }
  const result = tag !== null || rowDescription !== null || noData ? new BufferedResult(rowDescription, rows, tag ?? '', notices) : null
  return { result, parameterStatus, error, paramDescription, emptyQuery }
}

/** The encoder for shadow exchanges; exchanges are built and sent synchronously, so one suffices. */
const enc = new FrontendEncoder()

export interface BoundQuery {
  /** The client's name for the statement, for error messages (the shadow sees it unnamed). */
  readonly statementName?: string
  readonly sql: string
  readonly paramTypes: readonly number[]
  readonly params: readonly (Buffer | null)[]
  readonly paramFormats: readonly number[]
  readonly resultFormats: readonly number[]
  /**
   * Planner settings for this statement alone (set_config(..., true) before it, in its implicit
   * transaction): they choose a plan, never change an answer, and the session never sees them.
   */
  readonly planner?: readonly (readonly [string, string])[]
}

/** The reply after the first CommandComplete: what follows a prelude statement's own reply. */
function afterPrelude(reply: Buffer): Buffer {
  let end = 0
  for (const f of frames(reply)) {
    end += f.length
    if (f[0] === BackendCode.ErrorResponse) return reply
    if (f[0] === BackendCode.CommandComplete) return reply.subarray(end)
  }
  return reply
}

/** The reply up to its first ReadyForQuery, and the rest. */
function atReady(reply: Buffer): [Buffer, Buffer] {
  let end = 0
  for (const f of frames(reply)) {
    end += f.length
    if (f[0] === BackendCode.ReadyForQuery) break
  }
  return [reply.subarray(0, end), reply.subarray(end)]
}

export class ShadowRunner {
  /** A query run after each statement in its exchange, and the first row of each of its replies. */
  #witness: { sql: string; rows: (string | null)[][] } | undefined

  constructor(
    readonly shadow: Shadow,
    readonly connId: number,
  ) {}

  /**
   * Until `unwitness`, each statement run (simple or bound) is followed in its own exchange by
   * `sql` (a query of one row): no other session's statement comes between them.
   */
  witness(sql: string): void {
    this.#witness = { sql, rows: [] }
  }

  /** The rows `sql` gave since `witness`, in order; the witness ends. */
  unwitness(): (string | null)[][] {
    const rows = this.#witness?.rows ?? []
    this.#witness = undefined
    return rows
  }

  /** Runs `bytes`, followed by the witness query if there is one (its row kept). */
  async #run(owner: ShadowOwner, bytes: Buffer): Promise<Buffer> {
    const w = this.#witness
    if (!w) return this.shadow.run(owner, bytes, this.connId)
    const [reply, after] = atReady(await this.shadow.run(owner, Buffer.concat([bytes, enc.query(w.sql).take()]), this.connId))
    const row = splitReply(after).result?.rows[0]
    if (row) w.rows.push(rowTexts(row))
    return reply
  }

  /** A statement through the simple protocol (text results). */
  async simple(owner: ShadowOwner, sql: string): Promise<Outcome> {
    return splitReply(await this.#run(owner, enc.query(sql).take()))
  }

  /** A statement with parameters and formats, through the extended protocol. */
  async bound(owner: ShadowOwner, q: BoundQuery): Promise<Outcome> {
    const planner = q.planner ?? []
    if (planner.length > 0) {
      const sql = 'SELECT ' + planner.map(([n], i) => `pg_catalog.set_config('${n}', $${i + 1}, true)`).join(', ')
      const values = planner.map(([, v]) => Buffer.from(v))
      enc.parse('', sql, values.map(() => 25)).bind('', '', [], values, []).execute('', 0)
    }
    const bytes = enc
      .parse('', q.sql, q.paramTypes)
      .bind('', '', q.paramFormats as readonly FormatCode[], q.params, q.resultFormats as readonly FormatCode[])
      .describe('P', '')
      .execute('', 0)
      .sync()
      .take()
    const reply = await this.#run(owner, bytes)
    const out = splitReply(planner.length > 0 ? afterPrelude(reply) : reply)
    if (out.error && q.statementName) return { ...out, error: renameStatement(out.error, q.statementName) }
    return out
  }

  /**
   * Checks a statement as the client bound it, without running it: parameter types
   * (ParameterDescription) and the RowDescription in the client's result formats.
   */
  async probe(owner: ShadowOwner, q: BoundQuery): Promise<Outcome> {
    const bytes = enc
      .parse('', q.sql, q.paramTypes)
      .describe('S', '')
      .bind('', '', q.paramFormats as readonly FormatCode[], q.params, q.resultFormats as readonly FormatCode[])
      .describe('P', '')
      .sync()
      .take()
    const out = splitReply(await this.shadow.run(owner, bytes, this.connId))
    if (out.error && q.statementName) return { ...out, error: renameStatement(out.error, q.statementName) }
    return out
  }

  /** ParameterDescription and RowDescription (or NoData) of a statement (Describe S). */
  async describe(owner: ShadowOwner, sql: string, paramTypes: readonly number[]): Promise<Outcome> {
    const bytes = enc.parse('', sql, paramTypes).describe('S', '').sync().take()
    return splitReply(await this.shadow.run(owner, bytes, this.connId))
  }
}

/** PostgreSQL names the statement in Bind errors; the shadow's is unnamed, the client's is not. */
function renameStatement(frame: Buffer, name: string): Buffer {
  const m = decodeBackendMessage(frame)
  if (m.type !== 'ErrorResponse' || !m.fields.message.includes('prepared statement ""')) return frame
  const message = m.fields.message.replace('prepared statement ""', `prepared statement "${name.replace(/"/g, '""')}"`)
  return new BackendEncoder().errorResponse({ ...m.fields, message }).take()
}

/** An error frame for a PgError raised by the gateway itself. */
export function errorFrame(e: PgError): Buffer {
  const f: ErrorFields = { severity: e.severity, code: e.code, message: e.message, detail: e.detail, hint: e.hint, position: e.position === undefined ? undefined : String(e.position) }
  return new BackendEncoder().errorResponse(f).take()
}

/**
 * Text values of a DataRow frame. A column with a reader in `binary` was sent in binary, and the
 * reader writes it as text; the others were sent as text.
 */
export function rowTexts(frame: Buffer, binary: readonly (((frame: Buffer, pos: number, len: number) => string) | undefined)[] = []): (string | null)[] {
  const n = frame.readInt16BE(5)
  const out: (string | null)[] = []
  let pos = 7
  for (let i = 0; i < n; i++) {
    const len = frame.readInt32BE(pos)
    pos += 4
    if (len < 0) out.push(null)
    else {
      const reader = binary[i]
      out.push(reader ? reader(frame, pos, len) : frame.toString('utf8', pos, pos + len))
      pos += len
    }
  }
  return out
}

