/** KubeArmor sources: reconnecting after the source goes away, mTLS, several sources per agent. */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { rootLogger } from '../../common/log.js'
import { EdgeAgent } from '../../edge-agent/agent.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { makeTestPki } from '../helpers/certs.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const log = rootLogger('test', 'error')
const dir = tempDir()
after(() => dir.dispose())

test('the source disappearing and returning is followed by an automatic reconnect', async () => {
  const source = new KubeArmorEventSource({ hosts: ['node-r1'], rate: 500 })
  await source.start()
  const cfg = edgeConfig(dir.path + '/reconnect', [source.address])
  cfg.sources[0] = { ...cfg.sources[0]!, health_interval: 1000 }
  const agent = await EdgeAgent.start(cfg, log)
  const client = agent.sources[0]!
  try {
    await waitFor('events', () => agent.counters.stored > 100)
    await source.stop()
    await waitFor('the agent to notice', () => client.stats.state === 'backoff' || client.stats.state === 'connecting')
    const storedWhileDown = agent.counters.stored
    await source.start() // same port, as a restarted KubeArmor daemon
    await waitFor('the reconnect', () => client.stats.state === 'connected' && client.stats.reconnects >= 1, 40_000)
    await waitFor('new events after the reconnect', () => agent.counters.stored > storedWhileDown + 100)
    assert.ok(client.stats.lastError === null)
    await waitFor('fedgres.sources to show the reconnect', async () => {
      const r = await agent.store.query<{ state: string; reconnects: string }>('SELECT state, reconnects FROM fedgres.sources')
      return r.length === 1 && r[0]!.state === 'connected' && Number(r[0]!.reconnects) >= 1
    }, 10_000)
  } finally {
    await agent.stop()
    await source.stop()
  }
})

test('mTLS with KubeArmor-style ca.crt, client.crt and client.key', async () => {
  const pki = makeTestPki(dir.path)
  const source = new KubeArmorEventSource({ hosts: ['node-tls'], rate: 300, tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } })
  await source.start()
  const cfg = edgeConfig(dir.path + '/tls', [`localhost:${source.port}`])
  cfg.sources[0] = { ...cfg.sources[0]!, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }
  const agent = await EdgeAgent.start(cfg, log)
  try {
    await waitFor('events over mTLS', () => agent.counters.stored > 50)
    assert.equal(agent.sources[0]!.stats.state, 'connected')
  } finally {
    await agent.stop()
  }
  // Without a client certificate the source refuses the connection.
  const noCert = edgeConfig(dir.path + '/tls-nocert', [`localhost:${source.port}`])
  const agent2 = await EdgeAgent.start(noCert, log)
  try {
    await waitFor('the refusal', () => agent2.sources[0]!.stats.lastError !== null)
    assert.equal(agent2.counters.received, 0)
  } finally {
    await agent2.stop()
    await source.stop()
  }
})

test('one agent pulls from several sources and counts each one', async () => {
  const a = new KubeArmorEventSource({ hosts: ['node-m1'], rate: 300, seed: 1 })
  const b = new KubeArmorEventSource({ hosts: ['node-m2', 'node-m3'], rate: 300, seed: 2 })
  await a.start()
  await b.start()
  const agent = await EdgeAgent.start(edgeConfig(dir.path + '/multi', [a.address, b.address]), log)
  try {
    await waitFor('events from both', () => agent.sources.every((s) => s.stats.alerts + s.stats.logs > 100))
    await waitFor('stored rows from every node', async () => {
      const hosts = await agent.store.query<{ host_name: string }>('SELECT DISTINCT host_name FROM logs ORDER BY 1')
      return hosts.map((h) => h.host_name).join() === 'node-m1,node-m2,node-m3'
    })
  } finally {
    await agent.stop()
    await a.stop()
    await b.stop()
  }
})
