/**
 * Retention and archive on a real edge: ten days of events are imported, then the agent starts
 * with a retention policy and runs a round. By age and by size it keeps the newest days and frees
 * disk; the synopsis follows. An archived day reads with gzip and, imported back with `fedgres
 * import`, gives the very rows it held. An archive that cannot be written keeps the day.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { rootLogger } from '../../common/log.js'
import { EdgeAgent } from '../../edge-agent/agent.js'
import { EventGenerator } from '../../event-source/generator.js'
import { runCli } from '../helpers/cli-process.js'
import { edgeConfig, openEdgeDb } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'

const dir = tempDir('fedgres-retention-')
after(() => dir.dispose())
const log = rootLogger('test', process.env.LOG_LEVEL ?? 'error')
const DAY = 86_400_000
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate())
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10)
/** Days today-9 … today. */
const DAYS = Array.from({ length: 10 }, (_, i) => dayText(today - (9 - i) * DAY))

/** 1,500 events per day over the ten days, as a karmor logs --json file. */
function tenDaysFile(): string {
  const file = join(dir.path, 'ten-days.jsonl.gz')
  const gen = new EventGenerator({ hosts: ['node-r1', 'node-r2'], seed: 11 })
  const lines: string[] = []
  for (let d = 0; d < 10; d++) for (let i = 0; i < 1500; i++) lines.push(JSON.stringify(gen.next((today - (9 - d) * DAY + i * 57_000) * 1000).event))
  writeFileSync(file, gzipSync(lines.join('\n') + '\n'))
  return file
}
const source = tenDaysFile()

async function importedEdge(name: string): Promise<string> {
  const dataDir = join(dir.path, name)
  const res = await runCli(['import', '--data-dir', dataDir, '--edge-id', 'edge-r', source])
  assert.equal(res.code, 0, res.stderr)
  return dataDir
}

function duBytes(path: string): number {
  let n = 0
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size
  return n
}

async function query<T>(dataDir: string, sql: string): Promise<T[]> {
  const db = await openEdgeDb(dataDir)
  try {
    await db.exec(`SET TimeZone = 'UTC'`)
    return (await db.query<T>(sql)).rows
  } finally {
    await db.close()
  }
}
const daysIn = async (dataDir: string) =>
  (await query<{ d: string }>(dataDir, `SELECT DISTINCT to_char(time, 'YYYY-MM-DD') AS d FROM (SELECT time FROM alerts UNION ALL SELECT time FROM logs) t ORDER BY 1`)).map((r) => r.d)

/** Starts an agent on the data dir (no KubeArmor source answers), runs one round, stops it. */
async function withAgent<T>(dataDir: string, retention: Record<string, unknown>, fn: (agent: EdgeAgent) => Promise<T>): Promise<T> {
  const cfg = edgeConfig(dataDir, ['127.0.0.1:1'], { edge_id: 'edge-r', retention: { check_every: '1h', ...retention } })
  const agent = await EdgeAgent.start(cfg, log)
  try {
    return await fn(agent)
  } finally {
    await agent.stop()
  }
}

test('retention by age drops whole days older than max_age, keeps the newest, frees disk and narrows the synopsis', async () => {
  const dataDir = await importedEdge('by-age')
  assert.deepEqual(await daysIn(dataDir), DAYS)
  const before = duBytes(join(dataDir, 'pgdata'))
  const synopsisMin = await withAgent(dataDir, { max_age: '3d' }, async (agent) => {
    const report = await agent.retention!.run()
    assert.deepEqual([...new Set(report.dropped.map((d) => d.day))].sort(), DAYS.slice(0, 6), 'days that ended more than 3 days ago')
    assert.ok(report.dropped.every((d) => d.reason === 'age'))
    return agent.synopsis!.tables.logs.minTime!
  })
  assert.deepEqual(await daysIn(dataDir), DAYS.slice(6))
  const oldestKept = Date.parse(`${DAYS[6]}T00:00:00Z`) * 1000
  assert.ok(synopsisMin > oldestKept - 3_600_000_000 && synopsisMin <= oldestKept + 3_600_000_000, 'the published lower bound moved to the oldest day kept (less the lease)')
  const afterBytes = duBytes(join(dataDir, 'pgdata'))
  assert.ok(afterBytes < before, `disk freed: ${before} bytes before, ${afterBytes} after`)
})

test('retention by size drops the oldest days until the events fit, never the newest', async () => {
  const dataDir = await importedEdge('by-size')
  const sizes = await query<{ day: string; bytes: string }>(
    dataDir,
    `SELECT substring(c.relname from '_p(\\d{8})$') AS day, sum(pg_total_relation_size(c.oid))::text AS bytes
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid GROUP BY 1 ORDER BY 1`,
  )
  const perDay = sizes.map((s) => Number(s.bytes))
  // A budget that holds the newest four days and not five.
  const budget = perDay.slice(-4).reduce((a, b) => a + b, 0) + Math.floor(perDay[5]! / 2)
  await withAgent(dataDir, { max_bytes: budget }, async (agent) => {
    const report = await agent.retention!.run()
    assert.ok(report.dropped.every((d) => d.reason === 'size'))
  })
  assert.deepEqual(await daysIn(dataDir), DAYS.slice(6))
  // A budget below one day keeps the newest day, and says so.
  await withAgent(dataDir, { max_bytes: 1000 }, async (agent) => {
    const report = await agent.retention!.run()
    assert.equal(report.overBudget, true)
  })
  assert.deepEqual(await daysIn(dataDir), DAYS.slice(9))
})

test('an archived day reads with gzip, matches its manifest, and imported back gives the same rows', async () => {
  const dataDir = await importedEdge('archive')
  const archiveDir = join(dir.path, 'archive')
  const rowsOf = (dd: string, day: string) =>
    query<Record<string, unknown>>(dd, `SELECT * FROM logs WHERE time >= '${day}' AND time < '${day}'::date + 1 ORDER BY time, host_pid, pid, resource`)
  const before = await rowsOf(dataDir, DAYS[0]!)
  assert.ok(before.length > 100)
  await withAgent(dataDir, { max_age: '8d', archive: { dir: archiveDir } }, async (agent) => {
    const report = await agent.retention!.run()
    assert.deepEqual(report.dropped.map((d) => `${d.table}/${d.day}`).sort(), [`alerts/${DAYS[0]}`, `logs/${DAYS[0]}`])
  })
  assert.deepEqual(await rowsOf(dataDir, DAYS[0]!), [], 'the day is gone from the store')

  const file = join(archiveDir, `logs-${DAYS[0]}.csv.gz`)
  const manifest = JSON.parse(readFileSync(join(archiveDir, `logs-${DAYS[0]}.manifest.json`), 'utf8'))
  assert.equal(manifest.rows, before.length)
  assert.equal(manifest.sha256, execFileSync('sha256sum', [file]).toString().split(' ')[0])
  const text = execFileSync('gzip', ['-dc', file]).toString()
  assert.equal(text.split('\n')[0], manifest.columns.join(','), 'a CSV header line names the columns')

  // Back into the same edge: the same rows, edge_id included.
  const res = await runCli(['import', '--data-dir', dataDir, '--edge-id', 'edge-r', file])
  assert.equal(res.code, 0, res.stderr)
  assert.deepEqual(await rowsOf(dataDir, DAYS[0]!), before)

  // Into another edge: the same rows but for edge_id, which names the edge that now holds them.
  const other = join(dir.path, 'other-edge')
  const res2 = await runCli(['import', '--data-dir', other, '--edge-id', 'edge-other', join(archiveDir, `logs-${DAYS[0]}.manifest.json`)])
  assert.equal(res2.code, 0, res2.stderr)
  assert.deepEqual(await rowsOf(other, DAYS[0]!), before.map((r) => ({ ...r, edge_id: 'edge-other' })))

  // A damaged archive is refused whole.
  const damaged = join(dir.path, 'damaged')
  execFileSync('cp', ['-r', archiveDir, damaged])
  const bytes = readFileSync(join(damaged, `logs-${DAYS[0]}.csv.gz`))
  bytes[bytes.length - 20] ^= 0xff
  writeFileSync(join(damaged, `logs-${DAYS[0]}.csv.gz`), bytes)
  const res3 = await runCli(['import', '--data-dir', join(dir.path, 'third'), '--edge-id', 'e3', join(damaged, `logs-${DAYS[0]}.csv.gz`)])
  assert.equal(res3.code, 1)
  assert.match(res3.stderr, /checksum mismatch/)
})

test('an archive that fails keeps the day, and says why', async () => {
  const dataDir = await importedEdge('archive-fails')
  const notADir = join(dir.path, 'not-a-dir')
  writeFileSync(notADir, 'a file where the archive dir should be\n')
  await withAgent(dataDir, { max_age: '7d', archive: { dir: join(notADir, 'archive') } }, async (agent) => {
    const report = await agent.retention!.run()
    assert.deepEqual(report.dropped, [])
    assert.ok(report.kept.length >= 2 && report.kept.some((k) => /archive failed/.test(k.why)), JSON.stringify(report.kept))
    const metrics = await agent.metrics.registry.getSingleMetricAsString('fedgres_edge_archive_failures_total')
    assert.match(metrics, /fedgres_edge_archive_failures_total\{[^}]*\} [1-9]/)
  })
  assert.deepEqual(await daysIn(dataDir), DAYS, 'every day is still stored')
})
