/**
 * An edge whose store cannot commit says so: the agent's storeFailing (which the CLI's /readyz
 * reports as "not ready") is set when the store worker reports a failed commit, and cleared by
 * the next commit. It said ready while a store that could not commit held every event back.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { startEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

test('a failed commit makes the agent not ready until the next commit', async () => {
  const dir = tempDir('fedgres-ready-')
  const source = new KubeArmorEventSource({ hosts: ['h1'], rate: 0, port: 0 })
  await source.start()
  const edge = await startEdge(edgeConfig(dir.path, [source.address]), rootLogger('test', 'error'))
  try {
    const agent = edge.agent
    assert.equal(agent.storeFailing, false)
    // What the store worker reports when a commit fails (it retries the batch).
    agent.store.emit('fatal', new Error('invalid byte sequence for encoding "UTF8": 0x00'))
    assert.equal(agent.storeFailing, true)
    await waitFor('subscribed', () => source.subscribers('logs') > 0)
    source.setRate(200)
    await waitFor('a commit', () => !agent.storeFailing, 10_000)
  } finally {
    await edge.stop()
    await source.stop()
    dir.dispose()
  }
})
