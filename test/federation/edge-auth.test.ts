/**
 * The gateway's side of the gateway–edge login: the edge must prove itself with SCRAM-SHA-256
 * (an endpoint that lets anyone in is refused), and with `edge_credentials.ca` the edge's TLS
 * certificate must chain to that CA.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { EdgeConnection } from '../../gateway/exec/edge-connection.js'
import { makeTestPki, type TestPki } from '../helpers/certs.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

const PASSWORD = 'edge-auth-secret'

/** A PostgreSQL-speaking endpoint that sends AuthenticationOk at once (trust), as an impostor would. */
function trustingServer(): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.once('data', () => {
      const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]) // AuthenticationOk
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]) // ReadyForQuery idle
      s.write(Buffer.concat([ok, ready]))
    })
    s.on('error', () => s.destroy())
  })
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)))
}

describe('the gateway authenticates the edges it asks', () => {
  const dir = tempDir('fedgres-edgeauth-')
  let edge: RunningEdge
  let pki: TestPki
  let otherPki: TestPki
  const address = () => ({ edgeId: 'ea', host: '127.0.0.1', port: edge.servePort, tls: true })
  const login = (ca?: string) => ({ user: 'fedgres_gateway', password: PASSWORD, database: 'fedgres', ca })

  before(async () => {
    mkdirSync(join(dir.path, 'pki'))
    mkdirSync(join(dir.path, 'other'))
    pki = makeTestPki(join(dir.path, 'pki'), 'edge')
    otherPki = makeTestPki(join(dir.path, 'other'), 'other')
    const cfg = edgeConfig(join(dir.path, 'ea'), ['127.0.0.1:1'], {
      edge_id: 'ea',
      serve: { host: '127.0.0.1', port: 0, users: [{ name: 'fedgres_gateway', scram: makeScramSecret(PASSWORD) }], tls: { cert: pki.serverCert, key: pki.serverKey } },
    })
    edge = await startEdge(cfg, rootLogger('test', 'error'))
  })
  after(async () => {
    await edge?.stop()
    dir.dispose()
  })

  test('an endpoint that lets the gateway in without SCRAM is refused', async () => {
    const impostor = await trustingServer()
    try {
      const port = (impostor.address() as net.AddressInfo).port
      await assert.rejects(EdgeConnection.connect({ edgeId: 'fake', host: '127.0.0.1', port, tls: false }, login(), 3000), /without SCRAM-SHA-256.*refused/)
    } finally {
      impostor.close()
    }
  })

  test('with the edges\' CA configured, the edge\'s certificate is verified', async () => {
    const conn = await EdgeConnection.connect(address(), login(readFileSync(pki.ca, 'utf8')), 5000)
    conn.close()
    await assert.rejects(EdgeConnection.connect(address(), login(readFileSync(otherPki.ca, 'utf8')), 5000), /self-signed|unable to verify|certificate/i)
  })

  test('a wrong password is refused by the edge', async () => {
    await assert.rejects(EdgeConnection.connect(address(), { ...login(), password: 'wrong' }, 5000), /28P01/)
  })
})
