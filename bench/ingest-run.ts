/**
 * One ingest run for the ingest benches: `fedgres source` offers `rate` events/s for `seconds`
 * to a `fedgres edge` (separate processes, as deployed); the result is what the agent stored,
 * per second from the first event to the last commit, and what it lost.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startCli, scrapeCounter } from '../test/helpers/cli-process.js'
import { scrape } from '../test/helpers/prometheus-scrape.js'
import { freePort } from '../test/helpers/free-port.js'
import { cpuSeconds, peakRssBytes, rssBytes } from './proc-stats.js'

export interface RunResult {
  offered: number
  generated: number
  stored: number
  lost: number
  seconds: number
  perSecond: number
  /** The agent's CPU time (all threads) per event stored, µs: its cost, whatever else runs. */
  cpuMicrosPerEvent: number
  peakRssMb: number
  lifetimePeakMb: number
  spoolBytes: number
}

export async function sourceGenerated(port: number): Promise<number> {
  return scrapeCounter(port, 'fedgres_source_events_generated_total')
}

/** `configFile`: an edge config (rules, alerts) to run with. */
export async function runRate(rate: number, seconds: number, dataDir: string, configFile?: string): Promise<{ result: RunResult; dataDir: string }> {
  const srcPort = await freePort()
  const srcMetrics = await freePort()
  const edgeMetrics = await freePort()
  const edge = startCli(['edge', ...(configFile ? ['--config', configFile] : []), '--data-dir', dataDir, '--edge-id', 'bench', '--source', `127.0.0.1:${srcPort}`, '--metrics-port', String(edgeMetrics), '--log-level', 'warn'], {
    FEDGRES_EDGE_SYNOPSIS__PUBLISH_GRACE: '0',
  })
  // Ready once /metrics answers (its info-level log line is not shown at --log-level warn).
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${edgeMetrics}/metrics`).then((r) => r.ok).catch(() => false)), 120_000)
  const source = startCli(['source', '--port', String(srcPort), '--rate', '0', '--mode', 'fast', '--hosts', 'node-b1,node-b2', '--metrics-port', String(srcMetrics), '--log-level', 'warn', '--run-rate', String(rate), '--run-seconds', String(seconds)])
  // RSS under load: sampled from the run's start until everything is committed. The process's
  // lifetime peak (VmHWM) also counts its start (initdb runs in a child process of its own).
  const cpuBefore = cpuSeconds(edge.proc.pid!)
  let loadPeak = 0
  const sampler = setInterval(() => {
    try {
      loadPeak = Math.max(loadPeak, rssBytes(edge.proc.pid!))
    } catch {
      // process gone
    }
  }, 100)
  const done = await source.waitForLog('event source run finished', (seconds + 120) * 1000)
  const generated = Number(done.generatedForClients)
  const t0 = Number(done.startedAt)
  // Wait for the agent to commit everything it received.
  let stored = 0
  let lastChange = Date.now()
  for (;;) {
    const s = await scrapeCounter(edgeMetrics, 'fedgres_edge_events_stored_total')
    const r = await scrapeCounter(edgeMetrics, 'fedgres_edge_events_received_total')
    if (s !== stored) lastChange = Date.now()
    stored = s
    if (s >= r && s > 0 && r >= generated - Number(done.dropped)) break
    if (Date.now() - lastChange > 30_000) break
    await new Promise((res) => setTimeout(res, 100))
  }
  // The clock stops at the agent's last commit, as it reports it; the poll above would add up to
  // 100 ms of its own (0.7% of a 15 s run).
  const lastCommit = (await scrape(edgeMetrics)).sum('fedgres_edge_last_commit_timestamp_seconds', 'gauge')
  const finished = lastCommit > 0 ? lastCommit * 1000 : Date.now()
  const cpuUsed = cpuSeconds(edge.proc.pid!) - cpuBefore
  clearInterval(sampler)
  const lifetimePeak = peakRssBytes(edge.proc.pid!)
  source.kill('SIGTERM')
  edge.kill('SIGTERM')
  await edge.exited
  await source.exited
  const spoolDir = join(dataDir, 'spool')
  const spoolBytes = readdirSync(spoolDir).reduce((n, f) => n + statSync(join(spoolDir, f)).size, 0)
  const took = (finished - t0) / 1000
  return {
    dataDir,
    result: { offered: rate, generated, stored, lost: generated - stored, seconds: took, perSecond: stored / took, cpuMicrosPerEvent: (cpuUsed * 1e6) / stored, peakRssMb: loadPeak / 2 ** 20, lifetimePeakMb: lifetimePeak / 2 ** 20, spoolBytes },
  }
}

export async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}

