/**
 * A self-signed X.509 certificate made with node:crypto alone (no openssl on the machine needed):
 * an ECDSA P-256 key, and a v3 certificate for localhost and 127.0.0.1 whose DER is written here.
 *
 * node:crypto makes keys and signatures but not certificates, so the TBSCertificate is encoded
 * by hand (a dozen DER types suffice), signed with ecdsa-with-SHA256, and read back with
 * X509Certificate to check it before use. Like `openssl req -x509`, it is its own CA
 * (basicConstraints CA:TRUE), so a client can trust exactly this certificate
 * (psql `sslmode=verify-full sslrootcert=server.crt`).
 * @see https://www.rfc-editor.org/rfc/rfc5280#section-4.1
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'

export interface SelfSignedCert {
  /** PEM certificate. */
  readonly cert: string
  /** PEM PKCS#8 private key. */
  readonly key: string
}

export interface SelfSignedOptions {
  readonly commonName?: string
  /** DNS names and IP addresses the certificate is valid for (default localhost, 127.0.0.1, ::1). */
  readonly altNames?: readonly string[]
  readonly validDays?: number
  readonly now?: Date
}

// --- DER, just the types a certificate needs (X.690) ---

function der(tag: number, ...body: Buffer[]): Buffer {
  const content = Buffer.concat(body)
  const n = content.length
  let len: Buffer
  if (n < 0x80) len = Buffer.from([n])
  else {
    const bytes: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
    len = Buffer.from([0x80 | bytes.length, ...bytes])
  }
  return Buffer.concat([Buffer.from([tag]), len, content])
}

const seq = (...parts: Buffer[]) => der(0x30, ...parts)
const set = (...parts: Buffer[]) => der(0x31, ...parts)
const bool = (v: boolean) => der(0x01, Buffer.from([v ? 0xff : 0x00]))
const octets = (b: Buffer) => der(0x04, b)
const bits = (b: Buffer) => der(0x03, Buffer.from([0]), b)
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'))
/** [n] EXPLICIT */
const explicit = (n: number, inner: Buffer) => der(0xa0 | n, inner)

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps it positive). */
function uint(b: Buffer): Buffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  const v = b.subarray(i)
  return der(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v)
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out = [40 * arcs[0]! + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const groups = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f))
    out.push(...groups)
  }
  return der(0x06, Buffer.from(out))
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString() // 2026-11-22T13:18:55.094Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z' // 20261122131855Z
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(digits.slice(2))) : der(0x18, Buffer.from(digits))
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number))
  const [head, tail] = ip.split('::') as [string, string | undefined]
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : [])
  const h = words(head)
  const t = words(tail)
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const out = Buffer.alloc(16)
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2))
  return out
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const

const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value))

function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

export function makeSelfSignedCert(opts: SelfSignedOptions = {}): SelfSignedCert {
  const altNames = opts.altNames ?? ['localhost', '127.0.0.1', '::1']
  const now = opts.now ?? new Date()
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const name = seq(
    set(seq(oid(OID.organization), utf8('Fedgres demo'))),
    set(seq(oid(OID.commonName), utf8(opts.commonName ?? 'localhost'))),
  )
  const signatureAlgorithm = seq(oid(OID.ecdsaWithSha256))
  // [2] dNSName and [7] iPAddress are IMPLICIT, so the context tag replaces the IA5String/OCTET STRING tag.
  const san = seq(...altNames.map((n) => (isIP(n) ? der(0x87, ipBytes(n)) : der(0x82, Buffer.from(n, 'ascii')))))
  // The key identifier is the SHA-1 of the public key's BIT STRING contents (RFC 5280 4.2.1.2, method 1).
  const keyBits = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' })
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(keyBits.x!, 'base64url'), Buffer.from(keyBits.y!, 'base64url')])
  const serial = randomBytes(16)
  serial[0] = serial[0]! & 0x7f
  const tbs = seq(
    explicit(0, der(0x02, Buffer.from([2]))), // v3
    uint(serial),
    signatureAlgorithm,
    name,
    seq(time(new Date(now.getTime() - 3_600_000)), time(new Date(now.getTime() + (opts.validDays ?? 730) * 86_400_000))),
    name,
    spki,
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, true, seq(bool(true))),
        extension(OID.subjectKeyIdentifier, false, octets(createHash('sha1').update(point).digest())),
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, san),
      ),
    ),
  )
  const signature = sign('sha256', tbs, privateKey) // DER-encoded ECDSA-Sig-Value
  const certDer = seq(tbs, signatureAlgorithm, bits(signature))
  const out = { cert: pem('CERTIFICATE', certDer), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
  const check = new X509Certificate(out.cert)
  if (!check.checkPrivateKey(privateKey) || !check.verify(publicKey)) throw new Error('self-signed certificate failed its own check')
  return out
}
