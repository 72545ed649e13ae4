/**
 * Encoding what the gateway answers its clients. `BackendEncoder` appends messages to a batch;
 * the connection writes `take()` whenever `pendingBytes` passes its threshold (16–64 KB) and at
 * the end of each response, so a result set costs a few large writes, not one per row.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { BufferWriter } from './buffer-writer.js'
import type { FieldDescription } from './backend-messages.js'
import { dataRowPrefixLength } from './data-row.js'
import { ERROR_FIELD_CODES, ERROR_FIELD_NAMES, type ErrorFields } from './error-fields.js'
import { COPY_DONE, emptyMessage } from './frontend-encoder.js'
import { AuthCode, BackendCode, HEADER_LENGTH, type FormatCode, type TransactionStatus } from './message-codes.js'

function authentication(code: AuthCode): Buffer {
  const b = Buffer.alloc(9)
  b[0] = BackendCode.Authentication
  b.writeInt32BE(8, 1)
  b.writeInt32BE(code, 5)
  return b
}

function readyForQuery(status: TransactionStatus): Buffer {
  const b = Buffer.alloc(6)
  b[0] = BackendCode.ReadyForQuery
  b.writeInt32BE(5, 1)
  b[5] = status.charCodeAt(0)
  return b
}

// Preallocated: constant messages are copied (5–9 bytes) into a batch.
export const AUTHENTICATION_OK = authentication(AuthCode.Ok)
export const AUTHENTICATION_CLEARTEXT_PASSWORD = authentication(AuthCode.CleartextPassword)
export const PARSE_COMPLETE = emptyMessage(BackendCode.ParseComplete)
export const BIND_COMPLETE = emptyMessage(BackendCode.BindComplete)
export const CLOSE_COMPLETE = emptyMessage(BackendCode.CloseComplete)
export const NO_DATA = emptyMessage(BackendCode.NoData)
export const PORTAL_SUSPENDED = emptyMessage(BackendCode.PortalSuspended)
export const EMPTY_QUERY_RESPONSE = emptyMessage(BackendCode.EmptyQueryResponse)
export const READY_FOR_QUERY: Readonly<Record<TransactionStatus, Buffer>> = {
  I: readyForQuery('I'),
  T: readyForQuery('T'),
  E: readyForQuery('E'),
}

/** One per connection; see BufferWriter for why it must not be shared. */
export class BackendEncoder {
  readonly #w: BufferWriter

  constructor(writer: BufferWriter = new BufferWriter()) {
    this.#w = writer
  }

  /** Bytes of encoded messages not yet taken. */
  get pendingBytes(): number {
    return this.#w.pendingBytes
  }

  /** Every message appended since the last `take()`, as one Buffer. */
  take(): Buffer {
    return this.#w.flush()
  }

  /** Appends an already-encoded message (a constant, or a frame from an edge) unchanged. */
  message(frame: Uint8Array): this {
    this.#w.addMessage(frame)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONOK */
  authenticationOk(): this {
    return this.message(AUTHENTICATION_OK)
  }

  authenticationCleartextPassword(): this {
    return this.message(AUTHENTICATION_CLEARTEXT_PASSWORD)
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONMD5PASSWORD */
  authenticationMD5Password(salt: Uint8Array): this {
    this.#w.addInt32(AuthCode.MD5Password).addBytes(salt).endMessage(BackendCode.Authentication)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASL */
  authenticationSASL(mechanisms: readonly string[]): this {
    const w = this.#w.addInt32(AuthCode.SASL)
    for (const m of mechanisms) w.addCString(m)
    w.addInt8(0).endMessage(BackendCode.Authentication)
    return this
  }

  authenticationSASLContinue(data: Uint8Array | string): this {
    return this.#saslData(AuthCode.SASLContinue, data)
  }

  authenticationSASLFinal(data: Uint8Array | string): this {
    return this.#saslData(AuthCode.SASLFinal, data)
  }

  #saslData(code: AuthCode, data: Uint8Array | string): this {
    const w = this.#w.addInt32(code)
    if (typeof data === 'string') w.addString(data)
    else w.addBytes(data)
    w.endMessage(BackendCode.Authentication)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARAMETERSTATUS */
  parameterStatus(name: string, value: string): this {
    this.#w.addCString(name).addCString(value).endMessage(BackendCode.ParameterStatus)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BACKENDKEYDATA */
  backendKeyData(pid: number, secret: number): this {
    this.#w.addInt32(pid).addInt32(secret).endMessage(BackendCode.BackendKeyData)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-READYFORQUERY */
  readyForQuery(status: TransactionStatus): this {
    return this.message(READY_FOR_QUERY[status])
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ROWDESCRIPTION */
  rowDescription(fields: readonly FieldDescription[]): this {
    const w = this.#w.addInt16(fields.length)
    for (const f of fields) {
      w.addCString(f.name).addInt32(f.tableOid).addInt16(f.columnAttr).addInt32(f.typeOid)
      w.addInt16(f.typeSize).addInt32(f.typeMod).addInt16(f.format)
    }
    w.endMessage(BackendCode.RowDescription)
    return this
  }

  /**
   * Strings are written as UTF-8 (text format); bytes as they are (already in the format the
   * RowDescription announced); null as SQL NULL.
   * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-DATAROW
   */
  dataRow(values: readonly (Uint8Array | string | null)[]): this {
    const w = this.#w.addInt16(values.length)
    for (const v of values) {
      if (typeof v === 'string') w.addInt32PrefixedString(v)
      else w.addInt32PrefixedBytes(v)
    }
    w.endMessage(BackendCode.DataRow)
    return this
  }

  /**
   * A DataRow frame received from an edge, passed through byte for byte; with `keep`, cut after
   * its first `keep` columns (the sort keys a merge appended), copying straight into the batch.
   */
  dataRowFrame(frame: Buffer, keep?: number): this {
    if (keep === undefined) return this.message(frame)
    const length = dataRowPrefixLength(frame, keep)
    if (length === frame.length) return this.message(frame)
    this.#w.addInt16(keep).addBytes(frame.subarray(HEADER_LENGTH + 2, length)).endMessage(BackendCode.DataRow)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COMMANDCOMPLETE */
  commandComplete(tag: string): this {
    this.#w.addCString(tag).endMessage(BackendCode.CommandComplete)
    return this
  }

  emptyQueryResponse(): this {
    return this.message(EMPTY_QUERY_RESPONSE)
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ERRORRESPONSE */
  errorResponse(fields: ErrorFields): this {
    return this.#errorLike(BackendCode.ErrorResponse, fields)
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NOTICERESPONSE */
  noticeResponse(fields: ErrorFields): this {
    return this.#errorLike(BackendCode.NoticeResponse, fields)
  }

  #errorLike(code: number, fields: ErrorFields): this {
    const w = this.#w
    for (const name of ERROR_FIELD_NAMES) {
      // PostgreSQL (9.6+) always sends V beside S; clients such as pgjdbc rely on it.
      const value = name === 'severityNonLocalized' ? (fields.severityNonLocalized ?? fields.severity) : fields[name]
      if (value !== undefined) w.addInt8(ERROR_FIELD_CODES[name]).addCString(value)
    }
    w.addInt8(0).endMessage(code)
    return this
  }

  parseComplete(): this {
    return this.message(PARSE_COMPLETE)
  }

  bindComplete(): this {
    return this.message(BIND_COMPLETE)
  }

  closeComplete(): this {
    return this.message(CLOSE_COMPLETE)
  }

  noData(): this {
    return this.message(NO_DATA)
  }

  portalSuspended(): this {
    return this.message(PORTAL_SUSPENDED)
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARAMETERDESCRIPTION */
  parameterDescription(oids: readonly number[]): this {
    const w = this.#w.addInt16(oids.length)
    for (const oid of oids) w.addInt32(oid)
    w.endMessage(BackendCode.ParameterDescription)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NOTIFICATIONRESPONSE */
  notificationResponse(pid: number, channel: string, payload: string): this {
    this.#w.addInt32(pid).addCString(channel).addCString(payload).endMessage(BackendCode.NotificationResponse)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYINRESPONSE */
  copyInResponse(format: FormatCode, columnFormats: readonly FormatCode[]): this {
    return this.#copyResponse(BackendCode.CopyInResponse, format, columnFormats)
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYOUTRESPONSE */
  copyOutResponse(format: FormatCode, columnFormats: readonly FormatCode[]): this {
    return this.#copyResponse(BackendCode.CopyOutResponse, format, columnFormats)
  }

  #copyResponse(code: number, format: FormatCode, columnFormats: readonly FormatCode[]): this {
    const w = this.#w.addInt8(format).addInt16(columnFormats.length)
    for (const f of columnFormats) w.addInt16(f)
    w.endMessage(code)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYDATA */
  copyData(data: Uint8Array): this {
    this.#w.addBytes(data).endMessage(BackendCode.CopyData)
    return this
  }

  copyDone(): this {
    return this.message(COPY_DONE)
  }

  /**
   * Answers a StartupMessage asking for a newer minor version or unknown `_pq_.` options.
   * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NEGOTIATEPROTOCOLVERSION
   */
  negotiateProtocolVersion(newestMinor: number, unrecognizedOptions: readonly string[]): this {
    const w = this.#w.addInt32(newestMinor).addInt32(unrecognizedOptions.length)
    for (const o of unrecognizedOptions) w.addCString(o)
    w.endMessage(BackendCode.NegotiateProtocolVersion)
    return this
  }
}
