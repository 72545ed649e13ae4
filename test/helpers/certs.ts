/** A throwaway CA with server and client certificates, made with Debian's openssl, for TLS tests. */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestPki {
  readonly ca: string
  readonly serverCert: string
  readonly serverKey: string
  readonly clientCert: string
  readonly clientKey: string
}

export function makeTestPki(dir: string, cn = 'kubearmor'): TestPki {
  const f = (n: string) => join(dir, n)
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', `/CN=${cn}-ca/O=${cn}`)
  const leaf = (name: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext)
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}/O=${cn}`)
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(`${name}.ext`))
  }
  leaf('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  leaf('client', 'extendedKeyUsage=clientAuth\n')
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') }
}
