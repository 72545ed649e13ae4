import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import { makeSelfSignedCert } from './self-signed-cert.js'

/** Completes a TLS handshake that trusts only `cert`, naming the server `host`. */
function handshake(cert: string, key: string, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = tls.createServer({ cert, key }, (s) => s.end())
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port
      // The name checked is `host`, whatever address the test connects to.
      const client = tls.connect({ host: '127.0.0.1', port, ca: cert, checkServerIdentity: (_, peer) => tls.checkServerIdentity(host, peer) })
      const done = (e?: Error) => {
        client.destroy()
        server.close()
        if (e) reject(e)
        else resolve()
      }
      client.once('secureConnect', () => done())
      client.once('error', done)
    })
  })
}

test('the certificate is a v3 certificate for localhost, 127.0.0.1 and ::1, signed by its own key', () => {
  const now = new Date('2026-01-01T00:00:00Z')
  const { cert, key } = makeSelfSignedCert({ now, validDays: 10 })
  const x = new X509Certificate(cert)
  assert.equal(x.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
  assert.equal(x.subject, x.issuer)
  assert.ok(x.ca)
  assert.equal(new Date(x.validTo).getTime(), now.getTime() + 10 * 86_400_000)
  assert.match(key, /^-----BEGIN PRIVATE KEY-----/)
})

for (const host of ['localhost', '127.0.0.1', '::1']) {
  test(`a client trusting only the certificate verifies the server as ${host}`, async () => {
    const { cert, key } = makeSelfSignedCert()
    await handshake(cert, key, host)
  })
}

test('a client checking another name refuses the certificate', async () => {
  const { cert, key } = makeSelfSignedCert()
  await assert.rejects(handshake(cert, key, 'example.com'), /does not match|not in the cert's altnames/)
})
