/**
 * Decoding what a PostgreSQL server sends (the gateway's client side, talking to edges and to
 * the shadow catalog). DataRows are not converted: a `DataRow` keeps the raw frame, checked but
 * not copied, so rows can be passed through to clients byte for byte, and column values are
 * cut out as views only when asked for.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { protocolViolation } from '../errors/pg-error.js'
import { BufferReader } from './buffer-reader.js'
import { DataRow, dataRowColumns } from './data-row.js'
import { ERROR_FIELD_BY_CODE, type ErrorFields } from './error-fields.js'
import type { CopyDataMessage, CopyDoneMessage } from './frontend-messages.js'
import { AuthCode, BackendCode, HEADER_LENGTH, type FormatCode, type TransactionStatus } from './message-codes.js'
import { MessageBuffer, type MessageBufferOptions } from './message-buffer.js'

/** One column of a RowDescription. */
export interface FieldDescription {
  readonly name: string
  /** OID of the table the column comes from, or 0. */
  readonly tableOid: number
  /** Attribute number of that column, or 0. */
  readonly columnAttr: number
  readonly typeOid: number
  /** pg_type.typlen: negative for variable-width types. */
  readonly typeSize: number
  /** pg_attribute.atttypmod, -1 when none. */
  readonly typeMod: number
  readonly format: FormatCode
}

interface AuthBase {
  readonly type: 'Authentication'
  /** The body after the int32 code (a view). */
  readonly data: Buffer
}
type A = typeof AuthCode
export type AuthenticationMessage =
  | (AuthBase & { readonly code: A['Ok'] | A['KerberosV5'] | A['CleartextPassword'] | A['GSS'] | A['SSPI'] })
  | (AuthBase & { readonly code: A['GSSContinue'] | A['SASLContinue'] | A['SASLFinal'] })
  | (AuthBase & { readonly code: A['MD5Password']; readonly salt: Buffer })
  | (AuthBase & { readonly code: A['SASL']; readonly mechanisms: string[] })

export interface ParameterStatusMessage { readonly type: 'ParameterStatus'; readonly name: string; readonly value: string }
export interface BackendKeyDataMessage { readonly type: 'BackendKeyData'; readonly pid: number; readonly secret: number }
export interface ReadyForQueryMessage { readonly type: 'ReadyForQuery'; readonly status: TransactionStatus }
export interface RowDescriptionMessage { readonly type: 'RowDescription'; readonly fields: FieldDescription[] }
export interface CommandCompleteMessage { readonly type: 'CommandComplete'; readonly tag: string }
export interface ErrorResponseMessage { readonly type: 'ErrorResponse'; readonly fields: ErrorFields }
export interface NoticeResponseMessage { readonly type: 'NoticeResponse'; readonly fields: ErrorFields }
export interface ParameterDescriptionMessage { readonly type: 'ParameterDescription'; readonly oids: number[] }
export interface NotificationResponseMessage {
  readonly type: 'NotificationResponse'
  readonly pid: number
  readonly channel: string
  readonly payload: string
}
export interface CopyResponseMessage {
  readonly type: 'CopyInResponse' | 'CopyOutResponse' | 'CopyBothResponse'
  /** 0: textual COPY (all columns text), 1: binary. */
  readonly format: FormatCode
  readonly columnFormats: FormatCode[]
}
export interface NegotiateProtocolVersionMessage {
  readonly type: 'NegotiateProtocolVersion'
  readonly newestMinor: number
  readonly unrecognizedOptions: string[]
}
/** ParseComplete, BindComplete, NoData, …: nothing but their type. */
export interface EmptyMessage<T extends string> { readonly type: T }
/** A message this decoder does not know (FunctionCallResponse, …), raw. */
export interface UnknownBackendMessage { readonly type: 'Unknown'; readonly code: number; readonly frame: Buffer }

export type BackendMessage =
  | AuthenticationMessage
  | ParameterStatusMessage
  | BackendKeyDataMessage
  | ReadyForQueryMessage
  | RowDescriptionMessage
  | DataRow
  | CommandCompleteMessage
  | EmptyMessage<'EmptyQueryResponse'>
  | ErrorResponseMessage
  | NoticeResponseMessage
  | EmptyMessage<'ParseComplete'>
  | EmptyMessage<'BindComplete'>
  | EmptyMessage<'CloseComplete'>
  | EmptyMessage<'NoData'>
  | EmptyMessage<'PortalSuspended'>
  | ParameterDescriptionMessage
  | NotificationResponseMessage
  | CopyResponseMessage
  | CopyDataMessage
  | CopyDoneMessage
  | NegotiateProtocolVersionMessage
  | UnknownBackendMessage

const constant = <T extends string>(type: T): EmptyMessage<T> => Object.freeze({ type })
const parseComplete = constant('ParseComplete')
const bindComplete = constant('BindComplete')
const closeComplete = constant('CloseComplete')
const noData = constant('NoData')
const portalSuspended = constant('PortalSuspended')
const emptyQueryResponse = constant('EmptyQueryResponse')
const copyDone = constant('CopyDone')

// Safe to share: decoding is synchronous and the reader is released before returning.
const reader = new BufferReader()

/**
 * Decodes one typed frame from a server. Throws a 08P01 PgError when the frame is malformed.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
export function decodeBackendMessage(frame: Buffer): BackendMessage {
  if (frame.length < HEADER_LENGTH || frame.readInt32BE(1) !== frame.length - 1) throw protocolViolation('invalid message format')
  const code = frame[0]
  // The hot path: checked without the reader or any allocation besides the DataRow itself.
  if (code === BackendCode.DataRow) return new DataRow(frame, dataRowColumns(frame))
  reader.reset(frame, HEADER_LENGTH)
  try {
    const message = decodeBody(code, reader, frame)
    reader.end()
    return message
  } finally {
    reader.release()
  }
}

function decodeBody(code: number, r: BufferReader, frame: Buffer): BackendMessage {
  switch (code) {
    case BackendCode.CommandComplete:
      return { type: 'CommandComplete', tag: r.cstring() }
    case BackendCode.ReadyForQuery:
      return { type: 'ReadyForQuery', status: transactionStatus(r.uint8()) }
    case BackendCode.RowDescription:
      return { type: 'RowDescription', fields: fieldDescriptions(r) }
    case BackendCode.ParseComplete:
      return parseComplete
    case BackendCode.BindComplete:
      return bindComplete
    case BackendCode.CloseComplete:
      return closeComplete
    case BackendCode.NoData:
      return noData
    case BackendCode.PortalSuspended:
      return portalSuspended
    case BackendCode.EmptyQueryResponse:
      return emptyQueryResponse
    case BackendCode.ErrorResponse:
      return { type: 'ErrorResponse', fields: errorFields(r) }
    case BackendCode.NoticeResponse:
      return { type: 'NoticeResponse', fields: errorFields(r) }
    case BackendCode.ParameterDescription:
      return { type: 'ParameterDescription', oids: oids(r) }
    case BackendCode.ParameterStatus:
      return { type: 'ParameterStatus', name: r.cstring(), value: r.cstring() }
    case BackendCode.BackendKeyData:
      return { type: 'BackendKeyData', pid: r.int32(), secret: r.int32() }
    case BackendCode.Authentication:
      return authentication(r)
    case BackendCode.NotificationResponse:
      return { type: 'NotificationResponse', pid: r.int32(), channel: r.cstring(), payload: r.cstring() }
    case BackendCode.CopyInResponse:
      return copyResponse('CopyInResponse', r)
    case BackendCode.CopyOutResponse:
      return copyResponse('CopyOutResponse', r)
    case BackendCode.CopyBothResponse:
      return copyResponse('CopyBothResponse', r)
    case BackendCode.CopyData:
      return { type: 'CopyData', data: r.rest() }
    case BackendCode.CopyDone:
      return copyDone
    case BackendCode.NegotiateProtocolVersion: {
      const newestMinor = r.int32()
      const count = r.int32()
      if (count < 0 || count > r.remaining) throw protocolViolation('insufficient data left in message')
      const unrecognizedOptions: string[] = []
      for (let i = 0; i < count; i++) unrecognizedOptions.push(r.cstring())
      return { type: 'NegotiateProtocolVersion', newestMinor, unrecognizedOptions }
    }
    default:
      r.skip(r.remaining)
      return { type: 'Unknown', code, frame }
  }
}

function transactionStatus(byte: number): TransactionStatus {
  if (byte === 0x49) return 'I'
  if (byte === 0x54) return 'T'
  if (byte === 0x45) return 'E'
  throw protocolViolation(`invalid transaction status ${byte} in ReadyForQuery`)
}

function formatCode(n: number): FormatCode {
  if (n !== 0 && n !== 1) throw protocolViolation(`unsupported format code: ${n}`)
  return n
}

function fieldDescriptions(r: BufferReader): FieldDescription[] {
  const count = r.uint16()
  // A field takes at least 19 bytes (empty name); refuse counts the body cannot hold.
  if (count * 19 > r.remaining) throw protocolViolation('insufficient data left in message')
  const fields: FieldDescription[] = []
  for (let i = 0; i < count; i++) {
    fields.push({
      name: r.cstring(),
      tableOid: r.uint32(),
      columnAttr: r.int16(),
      typeOid: r.uint32(),
      typeSize: r.int16(),
      typeMod: r.int32(),
      format: formatCode(r.int16()),
    })
  }
  return fields
}

function oids(r: BufferReader): number[] {
  const count = r.uint16()
  if (count * 4 > r.remaining) throw protocolViolation('insufficient data left in message')
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(r.uint32())
  return out
}

function errorFields(r: BufferReader): ErrorFields {
  const fields: { -readonly [K in keyof ErrorFields]?: string } = {}
  for (let code = r.uint8(); code !== 0; code = r.uint8()) {
    const value = r.cstring()
    const name = ERROR_FIELD_BY_CODE[code]
    if (name !== undefined) fields[name] = value // unknown fields are to be ignored, says the protocol
  }
  return { ...fields, severity: fields.severity ?? '', code: fields.code ?? '', message: fields.message ?? '' }
}

function copyResponse(type: CopyResponseMessage['type'], r: BufferReader): CopyResponseMessage {
  const format = formatCode(r.int8())
  const count = r.uint16()
  if (count * 2 > r.remaining) throw protocolViolation('insufficient data left in message')
  const columnFormats: FormatCode[] = []
  for (let i = 0; i < count; i++) columnFormats.push(formatCode(r.int16()))
  return { type, format, columnFormats }
}

function authentication(r: BufferReader): AuthenticationMessage {
  const code = r.int32()
  switch (code) {
    case AuthCode.Ok:
    case AuthCode.KerberosV5:
    case AuthCode.CleartextPassword:
    case AuthCode.GSS:
    case AuthCode.SSPI:
      return { type: 'Authentication', code, data: r.bytes(0) } // nothing may follow
    case AuthCode.GSSContinue:
    case AuthCode.SASLContinue:
    case AuthCode.SASLFinal:
      return { type: 'Authentication', code, data: r.rest() }
    case AuthCode.MD5Password: {
      const salt = r.bytes(4)
      return { type: 'Authentication', code, salt, data: salt }
    }
    case AuthCode.SASL: {
      const start = r.offset
      const mechanisms: string[] = []
      for (let m = r.cstring(); m !== ''; m = r.cstring()) mechanisms.push(m)
      return { type: 'Authentication', code, mechanisms, data: r.buffer.subarray(start, r.offset) }
    }
    default:
      throw protocolViolation(`unsupported authentication request code ${code}`)
  }
}

/** MessageBuffer and decodeBackendMessage together: push socket chunks, take messages. */
export class BackendDecoder {
  readonly #frames: MessageBuffer

  constructor(options: Omit<MessageBufferOptions, 'startup'> = {}) {
    this.#frames = new MessageBuffer(options)
  }

  push(chunk: Uint8Array): void {
    this.#frames.push(chunk)
  }

  /** The next complete message, or undefined until more bytes are pushed. */
  next(): BackendMessage | undefined {
    const frame = this.#frames.nextFrame()
    return frame === undefined ? undefined : decodeBackendMessage(frame)
  }
}
