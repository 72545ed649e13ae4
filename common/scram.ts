/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: secrets in PostgreSQL's own format,
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64), so configs hold hashes,
 * never passwords; and the client side of the exchange, for gateways logging in to edges.
 * @see https://www.postgresql.org/docs/current/sasl-authentication.html
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'

export interface ScramSecret {
  readonly iterations: number
  /** base64 */
  readonly salt: string
  readonly storedKey: string
  readonly serverKey: string
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest()
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest()
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]!))

function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  // SASLprep is skipped, as libpq does for passwords that are not valid UTF-8 normalizations;
  // ASCII passwords (the norm for service credentials) are unaffected.
  return pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256')
}

export function makeScramSecret(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  const salted = saltedPassword(password, salt, iterations)
  const storedKey = sha256(hmac(salted, 'Client Key'))
  const serverKey = hmac(salted, 'Server Key')
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}

export function parseScramSecret(secret: string): ScramSecret {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(secret)
  if (!m) throw new Error('not a SCRAM-SHA-256 secret')
  return { iterations: Number(m[1]), salt: m[2]!, storedKey: m[3]!, serverKey: m[4]! }
}

/** The client side of one SCRAM-SHA-256 exchange (no channel binding: gs2 header `n,,`). */
export class ScramClient {
  readonly #password: string
  readonly #nonce = randomBytes(18).toString('base64')
  #clientFirstBare = ''
  #serverSignature: Buffer | undefined

  constructor(password: string) {
    this.#password = password
  }

  /** The SASLInitialResponse payload. */
  clientFirst(): string {
    this.#clientFirstBare = `n=*,r=${this.#nonce}`
    return `n,,${this.#clientFirstBare}`
  }

  /** Given the server-first message, the SASLResponse payload. */
  clientFinal(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]))
    const nonce = attrs.get('r')
    const salt = attrs.get('s')
    const iterations = Number(attrs.get('i'))
    if (!nonce?.startsWith(this.#nonce) || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error('invalid SCRAM server-first message')
    }
    const salted = saltedPassword(this.#password, Buffer.from(salt, 'base64'), iterations)
    const clientKey = hmac(salted, 'Client Key')
    const finalWithoutProof = `c=biws,r=${nonce}`
    const authMessage = `${this.#clientFirstBare},${serverFirst},${finalWithoutProof}`
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage))
    this.#serverSignature = hmac(hmac(salted, 'Server Key'), authMessage)
    return `${finalWithoutProof},p=${proof.toString('base64')}`
  }

  /** Checks the server-final message: the server proved it knows the secret too. */
  verifyServerFinal(serverFinal: string): void {
    const v = /(?:^|,)v=([A-Za-z0-9+/=]+)/.exec(serverFinal)?.[1]
    if (!v || !this.#serverSignature) throw new Error('invalid SCRAM server-final message')
    const got = Buffer.from(v, 'base64')
    if (got.length !== this.#serverSignature.length || !timingSafeEqual(got, this.#serverSignature)) {
      throw new Error('SCRAM server signature mismatch: the server does not know this password')
    }
  }
}
