/**
 * How often an edge publishes its synopsis (each publish is a Consul KV write that wakes every
 * gateway): when it widens, and for row counts alone every synopsis.refresh, only when they
 * moved. It used to publish every 30 s whatever happened, an idle edge included.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { EdgeAgent } from '../../edge-agent/agent.js'
import type { SynopsisPublisher } from '../../edge-agent/registry/publisher.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import type { Synopsis } from '../../schema/synopsis.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sleep, waitFor } from '../helpers/wait.js'

class CountingPublisher implements SynopsisPublisher {
  readonly published: Synopsis[] = []
  async publish(s: Synopsis): Promise<void> {
    this.published.push(s)
  }
  async close(): Promise<void> {}
}

test('row counts are republished every synopsis.refresh while they move, and an idle edge publishes nothing', async () => {
  const dir = tempDir('fedgres-refresh-')
  const total = 600
  const src = new KubeArmorEventSource({ hosts: ['refresh-host'], rate: 0, port: 0, limit: total })
  await src.start()
  const pub = new CountingPublisher()
  const agent = await EdgeAgent.start(edgeConfig(dir.path, [src.address], { synopsis: { publish_grace: 0, refresh: '300ms' } }), rootLogger('test', 'error'), pub)
  const rows = (s: Synopsis | undefined) => (s ? s.tables.alerts.rows + s.tables.logs.rows : -1)
  try {
    await waitFor('subscribed', () => src.subscribers('logs') > 0 && src.subscribers('alerts') > 0)
    src.setRate(400)
    await waitFor('every event stored', () => agent.counters.stored === total, 20_000)
    await waitFor('the stored count published', () => rows(pub.published.at(-1)) === total, 5000)
    const idleFrom = pub.published.length
    await sleep(1500) // five refresh periods with nothing new
    assert.equal(pub.published.length, idleFrom, 'no publish while nothing moves')
    const versions = pub.published.map((s) => s.version)
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions only grow')
  } finally {
    await agent.stop()
    await src.stop()
    dir.dispose()
  }
})
