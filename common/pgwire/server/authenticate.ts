/**
 * Password authentication of a client, by pg-gateway's SCRAM-SHA-256 implementation.
 *
 * pg-gateway reads the StartupMessage and runs the SASL exchange; it sees only the frames of the
 * authentication phase, fed through a web-stream pair, and its replies go straight to the socket.
 * Once it reports success we take the connection back: everything after AuthenticationOk
 * (parameters, BackendKeyData, ReadyForQuery) is ours to send.
 */
import { createHash } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { PostgresConnection } from 'pg-gateway'
import { parseScramSecret, type ScramSecret } from '../../scram.js'
import { BackendEncoder, decodeBackendMessage } from '../index.js'
import { SqlState } from '../../errors/sqlstate.js'

export interface AuthResult {
  readonly ok: boolean
  readonly user: string
}

/** For an unknown user, a made-up secret: the exchange runs and fails as for a wrong password (PostgreSQL does the same). */
function mockSecret(user: string): ScramSecret {
  const h = createHash('sha256').update('fedgres-mock:' + user).digest()
  return { iterations: 4096, salt: h.subarray(0, 16).toString('base64'), storedKey: h.toString('base64'), serverKey: h.toString('base64') }
}

/** pg-gateway fails a wrong password with 28000; PostgreSQL (and clients that test for it) use 28P01. */
function asPostgresWouldSay(chunk: Buffer): Buffer {
  if (chunk[0] !== 0x45) return chunk
  const m = decodeBackendMessage(chunk)
  if (m.type !== 'ErrorResponse' || m.fields.code !== '28000' || !m.fields.message.startsWith('password authentication failed')) return chunk
  return new BackendEncoder().errorResponse({ ...m.fields, code: SqlState.InvalidPassword }).take()
}

export interface Authenticator {
  /** Pushes a frame the client sent during authentication. */
  push(frame: Buffer): void
  /** Resolves when authentication ends; `ok: false` after pg-gateway sent its FATAL error. */
  readonly done: Promise<AuthResult>
  abort(): void
}

export function startAuthentication(socket: Duplex, startupFrame: Buffer, secrets: ReadonlyMap<string, string>): Authenticator {
  let enqueue!: (b: Uint8Array) => void
  let closeInput!: () => void
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      // pg-gateway reads lengths through `new DataView(chunk.buffer)`, ignoring byteOffset: every
      // chunk must own its ArrayBuffer from offset 0, so frames are copied (they are small).
      enqueue = (b) => controller.enqueue(new Uint8Array(b))
      closeInput = () => {
        try {
          controller.close()
        } catch {
          // already closed
        }
      }
    },
  })
  let authenticated = false
  let user = ''
  let settle!: (r: AuthResult) => void
  const done = new Promise<AuthResult>((resolve) => (settle = resolve))
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      // After success pg-gateway still sends ReadyForQuery: that one is ours to send, later.
      if (!authenticated) socket.write(asPostgresWouldSay(Buffer.from(chunk)))
    },
    close() {
      settle({ ok: authenticated, user })
    },
    abort() {
      settle({ ok: authenticated, user })
    },
  })
  const conn = new PostgresConnection(
    { readable, writable },
    {
      auth: {
        method: 'scram-sha-256',
        getScramSha256Data: ({ username }) => {
          user = username
          const secret = secrets.get(username)
          return secret ? parseScramSecret(secret) : mockSecret(username)
        },
      },
      onAuthenticated: () => {
        authenticated = true
        settle({ ok: true, user })
        closeInput()
      },
    },
  )
  void conn
  enqueue(startupFrame)
  return {
    push: (frame) => enqueue(frame),
    done,
    abort: () => {
      closeInput()
      settle({ ok: false, user })
    },
  }
}
