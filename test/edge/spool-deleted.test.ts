/**
 * Someone frees a full disk by deleting the spool under a running agent. The agent must neither
 * wedge nor go on writing into a file no one can read: it starts a new segment, the store moves
 * past the deleted one, the events that were in it and not yet stored are counted as lost (and
 * reported), and every event after it is stored. A quiet node stops cleanly too.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { EdgeAgent } from '../../edge-agent/agent.js'
import { storeOpenOptions } from '../../edge-agent/config.js'
import type { SynopsisPublisher } from '../../edge-agent/registry/publisher.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import type { Synopsis } from '../../schema/synopsis.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

/** A publisher held shut on demand: while it is, the write-ahead rule keeps new rows in the spool. */
class GatedPublisher implements SynopsisPublisher {
  #open: Promise<void> = Promise.resolve()
  #release = () => {}
  shut(): void {
    this.#open = new Promise((r) => (this.#release = r))
  }
  open(): void {
    this.#release()
  }
  async publish(_s: Synopsis): Promise<void> {
    await this.#open
  }
  async close(): Promise<void> {}
}

const stored = async (agent: EdgeAgent) => Number((await agent.store.query<{ n: string }>('SELECT (SELECT count(*) FROM logs) + (SELECT count(*) FROM alerts) AS n'))[0]!.n)

/** An agent over a KubeArmor-protocol source, its synopsis published through `publisher`; with no time lease, every event widens the synopsis. */
async function withGatedAgent(prefix: string, run: (x: { agent: EdgeAgent; source: KubeArmorEventSource; publisher: GatedPublisher; spoolDir: string }) => Promise<void>): Promise<number> {
  const dir = tempDir(prefix)
  const source = new KubeArmorEventSource({ hosts: ['h0'], rate: 0, port: 0 })
  await source.start()
  const publisher = new GatedPublisher()
  const cfg = edgeConfig(dir.path, [source.address], { synopsis: { publish_grace: 0, time_lease: 0 } })
  const agent = await EdgeAgent.start(cfg, rootLogger('test', 'error'), publisher)
  let stopMs = 0
  try {
    await waitFor('subscribed', () => source.subscribers('logs') > 0)
    await run({ agent, source, publisher, spoolDir: storeOpenOptions(cfg).spoolDir })
  } finally {
    publisher.open()
    const t0 = Date.now()
    await agent.stop()
    stopMs = Date.now() - t0
    await source.stop()
    dir.dispose()
  }
  return stopMs
}

test('events in a spool deleted under the agent are counted as lost, and the agent goes on storing', async () => {
  await withGatedAgent('fedgres-spool-rm-', async ({ agent, source, publisher, spoolDir }) => {
    source.setRate(300)
    await waitFor('events stored', () => agent.counters.stored > 100, 10_000)
    // With the publisher shut, the rows that widen the synopsis wait in the spool.
    publisher.shut()
    const storedBefore = agent.counters.stored
    await waitFor('received, not stored', () => agent.counters.received - agent.counters.stored - agent.counters.rejected >= 50, 10_000)
    const before = agent.counters.received
    rmSync(spoolDir, { recursive: true, force: true })
    publisher.open()
    await waitFor('the deleted segment counted', () => agent.counters.lost > 0, 10_000)
    await waitFor('later events stored', () => agent.counters.stored > before, 10_000)
    source.setRate(0)
    const settled = () => agent.counters.received === agent.counters.stored + agent.counters.lost + agent.counters.rejected
    await waitFor('every event received stored or counted lost', settled, 10_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify({ before, ...agent.counters })}`)
    })
    assert.ok(agent.counters.lost >= 50 && agent.counters.lost <= before - storedBefore, `lost ${agent.counters.lost}; ${before - storedBefore} were waiting when the spool was deleted`)
    assert.equal(await stored(agent), agent.counters.stored)
    const dropped = (await agent.metrics.registry.getSingleMetric('fedgres_edge_events_dropped_total')!.get()).values.find((v) => v.labels.reason === 'spool_deleted')
    assert.equal(dropped?.value, agent.counters.lost)
  })
})

test('a quiet agent whose spool was deleted stops without waiting for it', async () => {
  const stopMs = await withGatedAgent('fedgres-spool-rm-quiet-', async ({ agent, source, publisher, spoolDir }) => {
    publisher.shut()
    source.setRate(300)
    await waitFor('received', () => agent.counters.received >= 30, 10_000)
    source.setRate(0)
    await new Promise((r) => setTimeout(r, 200))
    rmSync(spoolDir, { recursive: true, force: true })
    publisher.open()
    await waitFor('the deleted segment counted', () => agent.counters.lost >= 30, 10_000)
  })
  assert.ok(stopMs < 5000, `stop took ${stopMs} ms`)
})
