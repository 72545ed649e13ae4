/**
 * Encoding what a client sends (the gateway's client side, talking to edges and to the shadow
 * catalog). `FrontendEncoder` appends messages to a batch and `take()` returns them as one
 * Buffer, so an extended-protocol round trip (Parse, Bind, Describe, Execute, Sync) is a
 * single write. Startup-phase frames are sent alone, so they are plain functions.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { BufferWriter } from './buffer-writer.js'
import {
  CANCEL_REQUEST_CODE,
  FrontendCode,
  GSSENC_REQUEST_CODE,
  PROTOCOL_VERSION_3_0,
  SSL_REQUEST_CODE,
  type FormatCode,
  type TargetKind,
} from './message-codes.js'

/** A message with an empty body: only its type byte and length 4. */
export function emptyMessage(code: number): Buffer {
  const b = Buffer.alloc(5)
  b[0] = code
  b.writeInt32BE(4, 1)
  return b
}

function untyped(code: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeInt32BE(8, 0)
  b.writeInt32BE(code, 4)
  return b
}

// Preallocated: constant messages are copied (5 bytes) into a batch or written as they are.
export const SYNC = emptyMessage(FrontendCode.Sync)
export const FLUSH = emptyMessage(FrontendCode.Flush)
export const TERMINATE = emptyMessage(FrontendCode.Terminate)
/** CopyDone is the same message in both directions. */
export const COPY_DONE = emptyMessage(FrontendCode.CopyDone)
export const SSL_REQUEST = untyped(SSL_REQUEST_CODE)
export const GSSENC_REQUEST = untyped(GSSENC_REQUEST_CODE)

/** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SSLREQUEST */
export const sslRequest = (): Buffer => SSL_REQUEST

/** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-GSSENCREQUEST */
export const gssEncRequest = (): Buffer => GSSENC_REQUEST

/** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-CANCELREQUEST */
export function cancelRequest(pid: number, secret: number): Buffer {
  const b = Buffer.allocUnsafe(16)
  b.writeInt32BE(16, 0)
  b.writeInt32BE(CANCEL_REQUEST_CODE, 4)
  b.writeInt32BE(pid, 8)
  b.writeInt32BE(secret, 12)
  return b
}

/**
 * `params` must include `user`; `database`, `application_name`, `options`, … are optional.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-STARTUPMESSAGE
 */
export function startupMessage(
  params: Readonly<Record<string, string>> | ReadonlyMap<string, string>,
  protocolVersion: number = PROTOCOL_VERSION_3_0,
): Buffer {
  const w = new BufferWriter(256).addInt32(protocolVersion)
  const entries = params instanceof Map ? params.entries() : Object.entries(params)
  for (const [name, value] of entries) w.addCString(name).addCString(value)
  return w.addInt8(0).flushUntyped()
}

/** One per connection; see BufferWriter for why it must not be shared. */
export class FrontendEncoder {
  readonly #w: BufferWriter

  constructor(writer: BufferWriter = new BufferWriter(4096)) {
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

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-QUERY */
  query(sql: string): this {
    this.#w.addCString(sql).endMessage(FrontendCode.Query)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARSE */
  parse(name: string, sql: string, paramTypes: readonly number[] = []): this {
    const w = this.#w.addCString(name).addCString(sql).addInt16(paramTypes.length)
    for (const oid of paramTypes) w.addInt32(oid)
    w.endMessage(FrontendCode.Parse)
    return this
  }

  /**
   * String parameters are sent as their UTF-8 bytes (text format, or binary `text`).
   * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BIND
   */
  bind(
    portal: string,
    statement: string,
    paramFormats: readonly FormatCode[] = [],
    params: readonly (Uint8Array | string | null)[] = [],
    resultFormats: readonly FormatCode[] = [],
  ): this {
    const w = this.#w.addCString(portal).addCString(statement).addInt16(paramFormats.length)
    for (const f of paramFormats) w.addInt16(f)
    w.addInt16(params.length)
    for (const p of params) {
      if (typeof p === 'string') w.addInt32PrefixedString(p)
      else w.addInt32PrefixedBytes(p)
    }
    w.addInt16(resultFormats.length)
    for (const f of resultFormats) w.addInt16(f)
    w.endMessage(FrontendCode.Bind)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-DESCRIBE */
  describe(kind: TargetKind, name: string): this {
    this.#w.addInt8(kind.charCodeAt(0)).addCString(name).endMessage(FrontendCode.Describe)
    return this
  }

  /**
   * `maxRows` 0 fetches all rows; otherwise the server stops with PortalSuspended.
   * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-EXECUTE
   */
  execute(portal: string, maxRows = 0): this {
    this.#w.addCString(portal).addInt32(maxRows).endMessage(FrontendCode.Execute)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-CLOSE */
  close(kind: TargetKind, name: string): this {
    this.#w.addInt8(kind.charCodeAt(0)).addCString(name).endMessage(FrontendCode.Close)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SYNC */
  sync(): this {
    this.#w.addMessage(SYNC)
    return this
  }

  /** The Flush *message* (asks the server to send what it has); `take()` empties the batch. */
  flush(): this {
    this.#w.addMessage(FLUSH)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-TERMINATE */
  terminate(): this {
    this.#w.addMessage(TERMINATE)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYDATA */
  copyData(data: Uint8Array): this {
    this.#w.addBytes(data).endMessage(FrontendCode.CopyData)
    return this
  }

  copyDone(): this {
    this.#w.addMessage(COPY_DONE)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COPYFAIL */
  copyFail(message: string): this {
    this.#w.addCString(message).endMessage(FrontendCode.CopyFail)
    return this
  }

  /** Cleartext or `md5…` hashed password. @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PASSWORDMESSAGE */
  passwordMessage(password: string): this {
    this.#w.addCString(password).endMessage(FrontendCode.AuthResponse)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLINITIALRESPONSE */
  saslInitialResponse(mechanism: string, data: Uint8Array | string | null): this {
    const w = this.#w.addCString(mechanism)
    if (typeof data === 'string') w.addInt32PrefixedString(data)
    else w.addInt32PrefixedBytes(data)
    w.endMessage(FrontendCode.AuthResponse)
    return this
  }

  /** @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLRESPONSE */
  saslResponse(data: Uint8Array | string): this {
    if (typeof data === 'string') this.#w.addString(data)
    else this.#w.addBytes(data)
    this.#w.endMessage(FrontendCode.AuthResponse)
    return this
  }
}
