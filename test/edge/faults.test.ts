/**
 * Fault tests for the edge agent run as an operator runs it (the `fedgres edge` process):
 * kill -9 under load, SIGTERM drain, a second agent on the same data dir.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { openEdgeDb } from '../helpers/edge-fixtures.js'
import { startCli, scrapeCounter, type CliProcess } from '../helpers/cli-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'
import { freePort } from '../helpers/free-port.js'

const dir = tempDir()
const running: CliProcess[] = []
after(() => {
  for (const p of running) p.kill('SIGKILL')
  dir.dispose()
})

async function startEdge(dataDir: string, source: string, env: Record<string, string> = {}): Promise<{ p: CliProcess; metricsPort: number }> {
  const metricsPort = await freePort()
  const p = startCli(['edge', '--data-dir', dataDir, '--edge-id', 'edge-fault', '--source', source, '--metrics-port', String(metricsPort), '--log-level', 'info'], {
    FEDGRES_EDGE_SYNOPSIS__PUBLISH_GRACE: '0',
    ...env,
  })
  running.push(p)
  await p.waitForLog('edge agent ready')
  return { p, metricsPort }
}

async function storedSeqs(dataDir: string): Promise<{ seq: number; tbl: 'alerts' | 'logs' }[]> {
  const db = await openEdgeDb(dataDir)
  try {
    const res = await db.query<{ seq: number; tbl: 'alerts' | 'logs' }>(
      `SELECT (event_data->>'Seq')::int AS seq, 'alerts' AS tbl FROM alerts UNION ALL SELECT (event_data->>'Seq')::int, 'logs' FROM logs ORDER BY 1`,
    )
    return res.rows
  } finally {
    await db.close()
  }
}

test('kill -9 under load, then restart, loses no event the agent had received (checkpoints ran before the kill)', async () => {
  // A deep source queue, so every gap in the sequence would be the agent's doing.
  const source = new KubeArmorEventSource({ hosts: ['node-k1'], rate: 3000, mode: 'fast', queueSize: 10_000_000 })
  await source.start()
  const dataDir = dir.path + '/kill9'
  try {
    // A checkpoint every MB of WAL (about every 1,500 events), so recovery starts from a recent one.
    const first = await startEdge(dataDir, source.address, { FEDGRES_EDGE_STORE__CHECKPOINT_WAL: '1MB' })
    await waitFor('events under load', async () => (await scrapeCounter(first.metricsPort, 'fedgres_edge_events_received_total')) >= 5000, 60_000)
    await waitFor('checkpoints under load', async () => (await scrapeCounter(first.metricsPort, 'fedgres_edge_checkpoints_total', { cause: 'wal' })) >= 2, 60_000)
    const receivedBeforeKill = {
      alerts: await scrapeCounter(first.metricsPort, 'fedgres_edge_events_received_total', { table: 'alerts' }),
      logs: await scrapeCounter(first.metricsPort, 'fedgres_edge_events_received_total', { table: 'logs' }),
    }
    first.p.kill('SIGKILL')
    assert.equal(await first.p.exited, 'SIGKILL')
    // Every event of the first run has a sequence number below this one.
    const firstRunEnd = source.nextSeq

    const second = await startEdge(dataDir, source.address)
    await waitFor('events after the restart', async () => (await scrapeCounter(second.metricsPort, 'fedgres_edge_events_received_total')) >= 1000, 60_000)
    second.p.kill('SIGTERM')
    assert.equal(await second.p.exited, 0)

    const stored = await storedSeqs(dataDir)
    assert.equal(new Set(stored.map((r) => r.seq)).size, stored.length, 'no event stored twice')
    // Alerts and logs come on two streams that share one sequence, so the events in flight on
    // either stream at the kill (sent, never received) leave gaps: count per stream instead.
    // Each stream delivers in order, so its events stored from the first run must be at least
    // as many as the agent had counted as received (written to its spool) before the kill.
    for (const t of ['alerts', 'logs'] as const) {
      const firstRun = stored.filter((r) => r.tbl === t && r.seq < firstRunEnd).length
      assert.ok(firstRun >= receivedBeforeKill[t], `${t}: ${firstRun} events of the first run stored; the agent had received ${receivedBeforeKill[t]}`)
    }
    assert.ok(stored.some((r) => r.seq >= firstRunEnd), 'events after the restart were stored too')
  } finally {
    await source.stop()
  }
})

test('SIGTERM drains: every received event is committed before the agent exits', async () => {
  const source = new KubeArmorEventSource({ hosts: ['node-t1'], rate: 4000, mode: 'fast', queueSize: 10_000_000 })
  await source.start()
  const dataDir = dir.path + '/sigterm'
  try {
    const edge = await startEdge(dataDir, source.address)
    await waitFor('events', async () => (await scrapeCounter(edge.metricsPort, 'fedgres_edge_events_received_total')) >= 4000, 60_000)
    edge.p.kill('SIGTERM') // while events keep arriving
    assert.equal(await edge.p.exited, 0)
    const drained = edge.p.logs.find((l) => l.message === 'store drained')
    assert.ok(drained, 'the agent logged its drain')
    assert.equal(drained.stored, drained.received, 'stored equals received')
    const seqs = await storedSeqs(dataDir)
    assert.equal(seqs.length, drained.received)
  } finally {
    await source.stop()
  }
})

test('a second agent on the same data dir is refused with a clear message', async () => {
  const source = new KubeArmorEventSource({ hosts: ['node-l1'], rate: 10 })
  await source.start()
  const dataDir = dir.path + '/lock'
  try {
    const first = await startEdge(dataDir, source.address)
    const second = startCli(['edge', '--data-dir', dataDir, '--source', source.address])
    running.push(second)
    const code = await second.exited
    assert.notEqual(code, 0)
    assert.match(second.stderrText(), new RegExp(`data dir ${dataDir} is in use by another Fedgres edge agent \\(pid ${first.p.proc.pid}\\)`))
    first.p.kill('SIGTERM')
    assert.equal(await first.p.exited, 0)
  } finally {
    await source.stop()
  }
})
