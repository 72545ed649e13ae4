/**
 * What the demo keeps in its data dir besides the edges' stores: the passwords (made once, so a
 * client's saved connection keeps working after a restart) and the gateway's self-signed TLS
 * certificate (remade only when it nears expiry). Both files are readable by the owner only.
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeSelfSignedCert } from './self-signed-cert.js'

export interface DemoSecrets {
  /** The analyst's password on the gateway (printed). */
  readonly analystPassword: string
  /** The gateway's password on the edges (user fedgres_gateway; never printed). */
  readonly edgePassword: string
}

export interface DemoTls {
  readonly cert: string
  readonly key: string
}

const SECRETS_FILE = 'secrets.json'
/** URL-safe base64: no quoting needed in a shell, a JDBC URL or an Npgsql connection string. */
const newPassword = (bytes: number) => randomBytes(bytes).toString('base64url')

export function loadOrCreateSecrets(dataDir: string): DemoSecrets {
  const file = join(dataDir, SECRETS_FILE)
  if (existsSync(file)) {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<'analyst' | 'edges', unknown>>
    if (typeof s.analyst !== 'string' || typeof s.edges !== 'string' || !s.analyst || !s.edges) {
      throw new Error(`${file} is damaged; delete it to have new passwords made`)
    }
    return { analystPassword: s.analyst, edgePassword: s.edges }
  }
  const secrets = { analystPassword: newPassword(12), edgePassword: newPassword(18) }
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(file, JSON.stringify({ analyst: secrets.analystPassword, edges: secrets.edgePassword }) + '\n', { mode: 0o600 })
  return secrets
}

/** The gateway's certificate and key files, made on first use and again within a day of expiry. */
export function loadOrCreateTls(dataDir: string, now = new Date()): DemoTls {
  const dir = join(dataDir, 'tls')
  const tls = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }
  if (existsSync(tls.cert) && existsSync(tls.key)) {
    try {
      const cert = new X509Certificate(readFileSync(tls.cert))
      if (new Date(cert.validTo).getTime() - now.getTime() > 86_400_000) return tls
    } catch {
      // unreadable: made again below
    }
  }
  const made = makeSelfSignedCert({ now })
  mkdirSync(dir, { recursive: true })
  writeFileSync(tls.key, made.key, { mode: 0o600 })
  writeFileSync(tls.cert, made.cert)
  return tls
}
