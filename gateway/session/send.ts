/** Writes a statement's execution to the client (RowDescription when asked, rows, tag). */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { decodeBackendMessage } from '../../common/pgwire/index.js'
import type { Responder } from '../../common/pgwire/server/responder.js'
import { BINARY_HEADER, BINARY_TRAILER, CopyWriter } from './copy-format.js'
import type { ResultStream } from './result.js'
import type { Session } from './session.js'
import { rowTexts } from './shadow-exchange.js'
import type { Execution } from './statement-runner.js'

/**
 * Streams up to `maxRows` rows (0: all). `complete` is true when the result ended (its
 * CommandComplete was sent), false when rows remain (a portal was suspended).
 */
export interface SendOptions {
  readonly rowDescription: boolean
  readonly maxRows: number
  /** Rewrites the tag given the rows sent by this call (for a resumed portal). */
  readonly tag?: (tag: string, sent: number) => string
}

/** PostgreSQL's order of message levels for client_min_messages (DEBUG1-5 alike here). */
const LEVELS = ['debug', 'log', 'notice', 'warning', 'error']
const levelOf = (severity: string) => Math.max(0, LEVELS.indexOf(severity.toLowerCase().replace(/\d$/, '')))

/**
 * The notices the client is to see: those the gateway makes itself (a WARNING that there is no
 * transaction in progress, a NOTICE of a partial result) follow client_min_messages, as
 * PostgreSQL's own do (the shadow's relayed ones already did).
 */
async function visible(s: Session, notices: readonly Buffer[]): Promise<readonly Buffer[]> {
  if (notices.length === 0) return notices
  const min = levelOf(await s.statements.minMessages())
  return notices.filter((n) => {
    const m = decodeBackendMessage(n)
    if (m.type !== 'NoticeResponse') return true
    const severity = m.fields.severityNonLocalized ?? m.fields.severity ?? 'NOTICE'
    return severity === 'INFO' || levelOf(severity) >= min // INFO goes to the client whatever the level
  })
}

export async function sendExecution(s: Session, ex: Execution, out: Responder, opts: SendOptions): Promise<{ complete: boolean; sent: number }> {
  if (ex.kind === 'copy') return sendCopy(s, ex, out)
  if (ex.kind === 'command') {
    for (const n of await visible(s, ex.notices)) out.frame(n)
    if (ex.tag) out.enc.commandComplete(ex.tag)
    return { complete: true, sent: 0 }
  }
  const r = ex.result
  for (const n of await visible(s, r.notices)) out.frame(n)
  if (opts.rowDescription) {
    if (r.rowDescription) out.frame(r.rowDescription)
  }
  let sent = 0
  for (;;) {
    if (opts.maxRows > 0 && sent >= opts.maxRows) return { complete: false, sent }
    const row = await nextRowOf(s, r)
    if (!row) break
    out.frame(row)
    sent++
    if ((sent & 255) === 0) await out.maybeFlush()
  }
  out.enc.commandComplete(opts.tag ? opts.tag(r.tag(), sent) : r.tag())
  return { complete: true, sent }
}

/** The result's next row (null at its end); throws the cancel's reason once the statement is cancelled. */
async function nextRowOf(s: Session, r: ResultStream): Promise<Buffer | null> {
  if (s.signal.aborted) {
    r.close()
    throw s.signal.reason instanceof PgError ? s.signal.reason : new PgError(SqlState.QueryCanceled, 'canceling statement due to user request')
  }
  const row = r.take()
  return row === undefined ? r.next() : row
}

/** COPY TO STDOUT: CopyOutResponse, a CopyData per row (and the header or binary framing), CopyDone, COPY n. */
async function sendCopy(s: Session, ex: Extract<Execution, { kind: 'copy' }>, out: Responder): Promise<{ complete: boolean; sent: number }> {
  const r = ex.result
  const o = ex.options
  const rd = r.rowDescription ? decodeBackendMessage(r.rowDescription) : undefined
  const names = rd?.type === 'RowDescription' ? rd.fields.map((f) => f.name) : []
  const binary = o.format === 'binary'
  const writer = binary ? undefined : new CopyWriter(o, names)
  for (const n of await visible(s, r.notices)) out.frame(n)
  out.enc.copyOutResponse(binary ? 1 : 0, names.map(() => (binary ? 1 : 0)))
  // As PostgreSQL does, one CopyData per row: the binary header goes with the first row (with
  // the trailer when there is none).
  let header: Buffer | null = binary ? BINARY_HEADER : null
  if (!binary && o.header) out.enc.copyData(Buffer.from(writer!.header()))
  let sent = 0
  for (;;) {
    const row = await nextRowOf(s, r)
    if (!row) break
    // A binary DataRow after its type and length is a binary COPY tuple: field count, then each field's length and bytes.
    if (!binary) out.enc.copyData(Buffer.from(writer!.line(rowTexts(row))))
    else {
      out.enc.copyData(header ? Buffer.concat([header, row.subarray(5)]) : row.subarray(5))
      header = null
    }
    sent++
    if ((sent & 255) === 0) await out.maybeFlush()
  }
  if (binary) out.enc.copyData(header ? Buffer.concat([header, BINARY_TRAILER]) : BINARY_TRAILER)
  out.enc.copyDone()
  out.enc.commandComplete(`COPY ${sent}`)
  return { complete: true, sent }
}
