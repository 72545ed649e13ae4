/**
 * A PostgreSQL wire session on a bare socket, for tests that must send bytes no driver would:
 * it does the startup and the authentication (SCRAM-SHA-256 per RFC 5802/7677, MD5 or
 * cleartext, whichever the server asks for), then lets the caller write anything and read the
 * server's messages one by one, including noticing exactly how the server closed.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { ServerUnderTest } from './index.js'

export interface BackendMessage {
  /** The message type byte as a character: 'E', 'Z', 'T', ... */
  readonly type: string
  readonly body: Buffer
}

/** ErrorResponse/NoticeResponse fields by their one-letter code, plus readable aliases. */
export interface ErrorFields {
  readonly severity: string
  readonly code: string
  readonly message: string
  readonly fields: Readonly<Record<string, string>>
}

export interface Field {
  readonly name: string
  readonly typeOid: number
  readonly format: number
}

/** How the server ended the connection: a FIN, an RST, or not at all within the wait. */
export type CloseKind = 'end' | 'reset' | 'open'

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}
const int16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
const cstr = (s: string) => Buffer.from(`${s}\0`)

/** A typed frontend message: type byte, int32 length (counting itself), body. */
export function frontendMessage(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(type, 'latin1'), int32(body.length + 4), body])
}

export function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([int32(196608), ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])])
  return Buffer.concat([int32(body.length + 4), body])
}

export function parseError(body: Buffer): ErrorFields {
  const fields: Record<string, string> = {}
  let i = 0
  while (i < body.length && body[i] !== 0) {
    const end = body.indexOf(0, i + 1)
    fields[String.fromCharCode(body[i]!)] = body.toString('utf8', i + 1, end)
    i = end + 1
  }
  return { severity: fields.V ?? fields.S ?? '', code: fields.C ?? '', message: fields.M ?? '', fields }
}

export class RawSession {
  private buf = Buffer.alloc(0)
  private closed: CloseKind = 'open'
  private wake: (() => void) | undefined

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk])
      this.wake?.()
    })
    socket.on('end', () => this.markClosed('end'))
    socket.on('error', (err: NodeJS.ErrnoException) => this.markClosed(err.code === 'ECONNRESET' ? 'reset' : 'end'))
    socket.on('close', () => this.markClosed('end'))
  }

  private markClosed(kind: CloseKind) {
    if (this.closed === 'open') this.closed = kind
    this.wake?.()
  }

  /** TCP connection, then SSLRequest and a TLS handshake when `server.tls`; no startup yet. */
  static async open(server: ServerUnderTest, timeoutMs = 5000): Promise<RawSession> {
    const tcp = netConnect({ host: server.host, port: server.port })
    tcp.setNoDelay(true)
    await new Promise<void>((resolve, reject) => {
      tcp.once('connect', resolve).once('error', reject)
      setTimeout(() => reject(new Error(`connect to ${server.host}:${server.port} timed out`)), timeoutMs).unref()
    })
    if (!server.tls) return new RawSession(tcp)
    tcp.write(Buffer.concat([int32(8), int32(80877103)]))
    const answer = await new Promise<Buffer>((resolve, reject) => {
      tcp.once('data', resolve).once('error', reject)
    })
    if (answer.toString('latin1') !== 'S') throw new Error(`SSLRequest answered ${JSON.stringify(answer.toString('latin1'))}, not 'S'`)
    const secure = tlsConnect({ socket: tcp, rejectUnauthorized: false })
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject))
    return new RawSession(secure)
  }

  /** `open()`, then StartupMessage and authentication, up to the first ReadyForQuery. */
  static async login(server: ServerUnderTest): Promise<RawSession> {
    const s = await RawSession.open(server)
    s.write(startupMessage({ user: server.user, database: server.database, application_name: 'fedgres-raw-session' }))
    await s.authenticate(server)
    for (;;) {
      const m = await s.expect()
      if (m.type === 'Z') return s
      if (m.type === 'E') throw new Error(`login failed: ${parseError(m.body).message}`)
    }
  }

  write(buf: Buffer): void {
    this.socket.write(buf)
  }

  /** Half-closes our side: the server sees EOF after whatever was written. */
  end(): void {
    this.socket.end()
  }

  /** Terminate, then close: the polite goodbye, so the server logs no reset connection. */
  close(): void {
    if (this.closed === 'open') this.socket.end(frontendMessage('X'))
    else this.socket.destroy()
  }

  destroy(): void {
    this.socket.destroy()
  }

  get closeKind(): CloseKind {
    return this.closed
  }

  /** The next complete message; null once the server has closed; throws after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<BackendMessage | null> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.buf.length >= 5) {
        const len = this.buf.readInt32BE(1)
        if (this.buf.length >= len + 1) {
          const m = { type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, len + 1) }
          this.buf = this.buf.subarray(len + 1)
          return m
        }
      }
      if (this.closed !== 'open') return null
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no message from the server within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.wake = undefined
    }
  }

  /** Like next(), for when the connection must still be open. */
  async expect(timeoutMs = 5000): Promise<BackendMessage> {
    const m = await this.next(timeoutMs)
    if (!m) throw new Error('server closed the connection unexpectedly')
    return m
  }

  /** Everything the server sends until it closes, or until `timeoutMs` passes with it still open. */
  async drain(timeoutMs: number): Promise<{ messages: BackendMessage[]; closed: CloseKind }> {
    const messages: BackendMessage[] = []
    const deadline = Date.now() + timeoutMs
    try {
      for (let m = await this.next(timeoutMs); m; m = await this.next(Math.max(1, deadline - Date.now()))) messages.push(m)
    } catch {
      // Timed out: the server kept the connection open.
    }
    return { messages, closed: this.closed }
  }

  private async authenticate(server: ServerUnderTest): Promise<void> {
    const first = await this.expect()
    if (first.type === 'E') throw new Error(`startup rejected: ${parseError(first.body).message}`)
    if (first.type !== 'R') throw new Error(`expected an Authentication message, got '${first.type}'`)
    const code = first.body.readInt32BE(0)
    if (code === 0) return
    if (code === 3) this.write(frontendMessage('p', cstr(server.password)))
    else if (code === 5) {
      const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex')
      const inner = md5(server.password + server.user)
      this.write(frontendMessage('p', cstr(`md5${md5(Buffer.concat([Buffer.from(inner), first.body.subarray(4, 8)]))}`)))
    } else if (code === 10) {
      const mechanisms = first.body.subarray(4).toString().split('\0')
      if (!mechanisms.includes('SCRAM-SHA-256')) throw new Error(`no SCRAM-SHA-256 among ${mechanisms.join(', ')}`)
      await this.scram(server.password)
    } else throw new Error(`unsupported authentication request ${code}`)
    const ok = await this.expect()
    if (ok.type === 'E') throw new Error(`authentication failed: ${parseError(ok.body).message}`)
    if (ok.type !== 'R' || ok.body.readInt32BE(0) !== 0) throw new Error(`expected AuthenticationOk, got '${ok.type}'`)
  }

  /** SCRAM-SHA-256 without channel binding (gs2 header `n,,`), as Npgsql 4 and psql do. */
  private async scram(password: string): Promise<void> {
    const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest()
    const clientNonce = randomBytes(18).toString('base64')
    // PostgreSQL takes the user from the StartupMessage and ignores the SCRAM user name.
    const clientFirstBare = `n=,r=${clientNonce}`
    const initial = Buffer.from(`n,,${clientFirstBare}`)
    this.write(frontendMessage('p', Buffer.concat([cstr('SCRAM-SHA-256'), int32(initial.length), initial])))
    const cont = await this.expect()
    if (cont.type === 'E') throw new Error(`SCRAM rejected: ${parseError(cont.body).message}`)
    if (cont.type !== 'R' || cont.body.readInt32BE(0) !== 11) throw new Error('expected AuthenticationSASLContinue')
    const serverFirst = cont.body.subarray(4).toString()
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]))
    const nonce = attrs.r ?? ''
    if (!nonce.startsWith(clientNonce)) throw new Error('SCRAM server nonce does not extend the client nonce')
    const salted = pbkdf2Sync(password, Buffer.from(attrs.s ?? '', 'base64'), Number(attrs.i), 32, 'sha256')
    const clientKey = hmac(salted, 'Client Key')
    const storedKey = createHash('sha256').update(clientKey).digest()
    const clientFinalWithoutProof = `c=biws,r=${nonce}`
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
    const signature = hmac(storedKey, authMessage)
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!))
    this.write(frontendMessage('p', Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`)))
    const final = await this.expect()
    if (final.type === 'E') throw new Error(`SCRAM failed: ${parseError(final.body).message}`)
    if (final.type !== 'R' || final.body.readInt32BE(0) !== 12) throw new Error('expected AuthenticationSASLFinal')
    const expected = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')
    if (final.body.subarray(4).toString() !== `v=${expected}`) throw new Error('SCRAM server signature does not verify')
  }

  /** A simple Query; text rows of the last result set. Throws the first ErrorResponse. */
  async query(sql: string): Promise<{ rows: (string | null)[][]; command: string }> {
    this.write(frontendMessage('Q', cstr(sql)))
    return this.collect((b) => b.toString('utf8'))
  }

  /**
   * Parse/Bind/Describe/Execute/Sync on the unnamed statement, text parameters, every result
   * column in binary: the way Npgsql (Power BI) asks for results.
   */
  async extendedBinary(sql: string, params: (string | null)[]): Promise<{ fields: Field[]; rows: (Buffer | null)[][] }> {
    const values = params.map((p) => (p === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(p)), Buffer.from(p)])))
    this.write(
      Buffer.concat([
        frontendMessage('P', Buffer.concat([cstr(''), cstr(sql), int16(0)])),
        frontendMessage('B', Buffer.concat([cstr(''), cstr(''), int16(0), int16(params.length), ...values, int16(1), int16(1)])),
        frontendMessage('D', Buffer.concat([Buffer.from('P'), cstr('')])),
        frontendMessage('E', Buffer.concat([cstr(''), int32(0)])),
        frontendMessage('S'),
      ]),
    )
    return this.collect((b) => Buffer.from(b))
  }

  private async collect<V>(decode: (b: Buffer) => V): Promise<{ fields: Field[]; rows: (V | null)[][]; command: string }> {
    let fields: Field[] = []
    let rows: (V | null)[][] = []
    let command = ''
    let error: ErrorFields | undefined
    for (;;) {
      const m = await this.expect()
      if (m.type === 'T') [fields, rows] = [parseRowDescription(m.body), []]
      else if (m.type === 'D') rows.push(parseDataRow(m.body).map((v) => (v === null ? null : decode(v))))
      else if (m.type === 'C') command = m.body.toString('utf8', 0, m.body.length - 1)
      else if (m.type === 'E') error ??= parseError(m.body)
      else if (m.type === 'Z') break
    }
    if (error) throw Object.assign(new Error(`${error.code}: ${error.message}`), { pg: error })
    return { fields, rows, command }
  }
}

function parseRowDescription(body: Buffer): Field[] {
  const out: Field[] = []
  let i = 2
  for (let n = body.readInt16BE(0); n > 0; n--) {
    const end = body.indexOf(0, i)
    const name = body.toString('utf8', i, end)
    i = end + 1
    out.push({ name, typeOid: body.readInt32BE(i + 6), format: body.readInt16BE(i + 16) })
    i += 18
  }
  return out
}

function parseDataRow(body: Buffer): (Buffer | null)[] {
  const out: (Buffer | null)[] = []
  let i = 2
  for (let n = body.readInt16BE(0); n > 0; n--) {
    const len = body.readInt32BE(i)
    i += 4
    out.push(len < 0 ? null : body.subarray(i, i + len))
    if (len > 0) i += len
  }
  return out
}
