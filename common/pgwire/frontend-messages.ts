/**
 * Decoding what clients send (the gateway's server side): typed frames into a discriminated
 * union, startup-phase frames into `StartupFrame`. Counts, lengths, format codes and trailing
 * bytes are all checked; malformed input throws a 08P01 PgError, and an unknown type byte
 * yields `Unknown` so the caller can answer with its own 08P01.
 * Byte arrays in the results (Bind parameters, CopyData) are views into the frame, not copies.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { PgError, protocolViolation } from '../errors/pg-error.js'
import { SqlState } from '../errors/sqlstate.js'
import { BufferReader } from './buffer-reader.js'
import {
  CANCEL_REQUEST_CODE,
  FrontendCode,
  GSSENC_REQUEST_CODE,
  HEADER_LENGTH,
  SSL_REQUEST_CODE,
  STARTUP_HEADER_LENGTH,
  type FormatCode,
  type TargetKind,
} from './message-codes.js'

export interface QueryMessage { readonly type: 'Query'; readonly sql: string }
export interface ParseMessage {
  readonly type: 'Parse'
  readonly name: string
  readonly sql: string
  /** 0 leaves a parameter's type to the server. */
  readonly paramTypes: number[]
}
export interface BindMessage {
  readonly type: 'Bind'
  readonly portal: string
  readonly statement: string
  /** Empty: all text; one: applies to all; else one per parameter. */
  readonly paramFormats: FormatCode[]
  readonly params: (Buffer | null)[]
  /** Same convention as paramFormats, per result column. */
  readonly resultFormats: FormatCode[]
}
export interface DescribeMessage { readonly type: 'Describe'; readonly kind: TargetKind; readonly name: string }
/** `maxRows` 0 means all rows. */
export interface ExecuteMessage { readonly type: 'Execute'; readonly portal: string; readonly maxRows: number }
export interface CloseMessage { readonly type: 'Close'; readonly kind: TargetKind; readonly name: string }
export interface SyncMessage { readonly type: 'Sync' }
export interface FlushMessage { readonly type: 'Flush' }
export interface TerminateMessage { readonly type: 'Terminate' }
/** Shared by both directions. */
export interface CopyDataMessage { readonly type: 'CopyData'; readonly data: Buffer }
export interface CopyDoneMessage { readonly type: 'CopyDone' }
export interface CopyFailMessage { readonly type: 'CopyFail'; readonly message: string }
/** Only the function's OID is decoded: the fast-path interface is refused, not served. */
export interface FunctionCallMessage { readonly type: 'FunctionCall'; readonly functionOid: number }
/**
 * PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share one type byte; only
 * the authentication state knows which it is, so the body stays raw (see `decodePassword`,
 * `decodeSaslInitialResponse`).
 */
export interface AuthResponseMessage { readonly type: 'AuthResponse'; readonly data: Buffer }
export interface UnknownMessage { readonly type: 'Unknown'; readonly code: number }

export type FrontendMessage =
  | QueryMessage
  | ParseMessage
  | BindMessage
  | DescribeMessage
  | ExecuteMessage
  | CloseMessage
  | SyncMessage
  | FlushMessage
  | TerminateMessage
  | CopyDataMessage
  | CopyDoneMessage
  | CopyFailMessage
  | FunctionCallMessage
  | AuthResponseMessage
  | UnknownMessage

const sync: SyncMessage = Object.freeze({ type: 'Sync' })
const flush: FlushMessage = Object.freeze({ type: 'Flush' })
const terminate: TerminateMessage = Object.freeze({ type: 'Terminate' })
const copyDone: CopyDoneMessage = Object.freeze({ type: 'CopyDone' })

// Safe to share: decoding is synchronous and the reader is released before returning.
const reader = new BufferReader()

/**
 * Decodes one typed frame (type byte, int32 length, body) as produced by MessageBuffer.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
export function decodeFrontendMessage(frame: Buffer): FrontendMessage {
  checkHeader(frame, HEADER_LENGTH, frame.length - 1)
  reader.reset(frame, HEADER_LENGTH)
  try {
    return decodeBody(frame[0])
  } finally {
    reader.release()
  }
}

function decodeBody(code: number): FrontendMessage {
  const r = reader
  switch (code) {
    case FrontendCode.Query: {
      const sql = r.cstring()
      r.end()
      return { type: 'Query', sql }
    }
    case FrontendCode.Parse:
      return decodeParse(r)
    case FrontendCode.Bind:
      return decodeBind(r)
    case FrontendCode.Describe: {
      const kind = targetKind(r.uint8(), 'DESCRIBE')
      const name = r.cstring()
      r.end()
      return { type: 'Describe', kind, name }
    }
    case FrontendCode.Execute: {
      const portal = r.cstring()
      // PostgreSQL reads it unsigned (pq_getmsgint), so there are no negative row limits.
      const maxRows = r.uint32()
      r.end()
      return { type: 'Execute', portal, maxRows }
    }
    case FrontendCode.Close: {
      const kind = targetKind(r.uint8(), 'CLOSE')
      const name = r.cstring()
      r.end()
      return { type: 'Close', kind, name }
    }
    case FrontendCode.Sync:
      r.end()
      return sync
    case FrontendCode.Flush:
      r.end()
      return flush
    case FrontendCode.Terminate:
      r.end()
      return terminate
    case FrontendCode.CopyData:
      return { type: 'CopyData', data: r.rest() }
    case FrontendCode.CopyDone:
      r.end()
      return copyDone
    case FrontendCode.CopyFail: {
      const message = r.cstring()
      r.end()
      return { type: 'CopyFail', message }
    }
    case FrontendCode.FunctionCall:
      return { type: 'FunctionCall', functionOid: r.uint32() }
    case FrontendCode.AuthResponse:
      return { type: 'AuthResponse', data: r.rest() }
    default:
      return { type: 'Unknown', code }
  }
}

function decodeParse(r: BufferReader): ParseMessage {
  const name = r.cstring()
  const sql = r.cstring()
  const count = r.uint16()
  if (count * 4 > r.remaining) throw protocolViolation('insufficient data left in message')
  const paramTypes: number[] = []
  for (let i = 0; i < count; i++) paramTypes.push(r.uint32())
  r.end()
  return { type: 'Parse', name, sql, paramTypes }
}

function decodeBind(r: BufferReader): BindMessage {
  const portal = r.cstring()
  const statement = r.cstring()
  const paramFormats = formatCodes(r)
  const count = r.uint16()
  // Each parameter takes at least its 4-byte length: refuse a count the body cannot hold
  // before building an array for it.
  if (count * 4 > r.remaining) throw protocolViolation('insufficient data left in message')
  if (paramFormats.length > 1 && paramFormats.length !== count) {
    throw protocolViolation(`bind message has ${paramFormats.length} parameter formats but ${count} parameters`)
  }
  const params: (Buffer | null)[] = []
  for (let i = 0; i < count; i++) {
    const len = r.int32()
    if (len === -1) params.push(null)
    else if (len < 0) throw protocolViolation(`invalid length of bind parameter ${i + 1}: ${len}`)
    else params.push(r.bytes(len))
  }
  const resultFormats = formatCodes(r)
  r.end()
  return { type: 'Bind', portal, statement, paramFormats, params, resultFormats }
}

function formatCodes(r: BufferReader): FormatCode[] {
  const count = r.uint16()
  if (count * 2 > r.remaining) throw protocolViolation('insufficient data left in message')
  const formats: FormatCode[] = []
  for (let i = 0; i < count; i++) {
    const f = r.int16()
    // PostgreSQL's words and SQLSTATE (22023, an ERROR: the session goes on).
    if (f !== 0 && f !== 1) throw new PgError(SqlState.InvalidParameterValue, `unsupported format code: ${f}`)
    formats.push(f)
  }
  return formats
}

function targetKind(byte: number, what: 'DESCRIBE' | 'CLOSE'): TargetKind {
  if (byte === 0x53) return 'S'
  if (byte === 0x50) return 'P'
  throw protocolViolation(`invalid ${what} message subtype ${byte}`)
}

/** The length field must describe exactly the frame we were given. */
function checkHeader(frame: Buffer, headerLength: number, expected: number): void {
  if (frame.length < headerLength || frame.readInt32BE(headerLength - 4) !== expected) {
    throw protocolViolation('invalid message format')
  }
}

/** The cleartext or MD5 password of a PasswordMessage (the body of an `AuthResponse`). */
export function decodePassword(data: Buffer): string {
  reader.reset(data)
  try {
    const password = reader.cstring()
    reader.end()
    return password
  } finally {
    reader.release()
  }
}

/** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLINITIALRESPONSE */
export function decodeSaslInitialResponse(data: Buffer): { mechanism: string; response: Buffer | null } {
  reader.reset(data)
  try {
    const mechanism = reader.cstring()
    const len = reader.int32()
    const response = len === -1 ? null : reader.bytes(len)
    reader.end()
    return { mechanism, response }
  } finally {
    reader.release()
  }
}

export type StartupFrame =
  | { readonly type: 'SSLRequest' }
  | { readonly type: 'GSSENCRequest' }
  | { readonly type: 'CancelRequest'; readonly pid: number; readonly secret: number }
  | {
      readonly type: 'StartupMessage'
      /** major << 16 | minor; a minor above 0 calls for NegotiateProtocolVersion. */
      readonly protocolVersion: number
      /** user, database, options, application_name, … and `_pq_.` protocol options. */
      readonly params: ReadonlyMap<string, string>
    }

/**
 * Decodes one startup-phase frame (int32 length, int32 code or version, body).
 * A protocol major version other than 3 is refused with PostgreSQL's 0A000.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-STARTUPMESSAGE
 */
export function decodeStartupFrame(frame: Buffer): StartupFrame {
  checkHeader(frame, STARTUP_HEADER_LENGTH, frame.length)
  reader.reset(frame, STARTUP_HEADER_LENGTH)
  try {
    const code = reader.int32()
    switch (code) {
      case SSL_REQUEST_CODE:
        reader.end()
        return { type: 'SSLRequest' }
      case GSSENC_REQUEST_CODE:
        reader.end()
        return { type: 'GSSENCRequest' }
      case CANCEL_REQUEST_CODE: {
        const pid = reader.int32()
        const secret = reader.int32()
        reader.end()
        return { type: 'CancelRequest', pid, secret }
      }
    }
    const major = code >>> 16
    if (major !== 3) {
      throw new PgError(SqlState.FeatureNotSupported, `unsupported frontend protocol ${major}.${code & 0xffff}: server supports 3.0 to 3.0`)
    }
    if (frame[frame.length - 1] !== 0) throw protocolViolation('invalid startup packet layout: expected terminator as last byte')
    const params = new Map<string, string>()
    for (let name = reader.cstring(); name !== ''; name = reader.cstring()) params.set(name, reader.cstring())
    reader.end()
    return { type: 'StartupMessage', protocolVersion: code, params }
  } finally {
    reader.release()
  }
}
