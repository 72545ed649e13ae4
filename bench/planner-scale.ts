/**
 * npm run bench:planner — what planning a statement costs the gateway as the network grows to
 * thousands of edges. The planner is pure (gateway/plan), so this runs it alone, on views of
 * N = 64, 1,000 and 5,000 edges made in memory: one host each, ten clusters, every edge holding
 * the last seven days (live edges), each with a current synopsis. No edge is contacted; the
 * latency of asking the edges is bench:federation's.
 *
 * Every statement is parsed once, as the gateway's parse cache gives it (a frozen tree), and
 * planned again and again. Each cell is the median, over 9 rounds, of the process CPU time per
 * plan in µs, and that cost per edge of the view in ns.
 */
import { parseStatements, loadParser } from '../gateway/session/sql-parse.js'
import { plan } from '../gateway/plan/planner.js'
import type { PlanInput, PruneValue } from '../gateway/plan/types.js'
import type { EdgeEndpoint } from '../gateway/discovery/edge-view.js'
import type { TableSynopsis } from '../schema/synopsis.js'
import { fmt, median } from './proc-stats.js'

const SIZES = (process.env.BENCH_EDGES ?? '64,1000,5000').split(',').map(Number)
const PER_ROUND = 200
const WARMUP = 1000
const ROUNDS = 9
const DAY_US = 86_400_000_000
const NOW_US = Date.UTC(2026, 11, 7) * 1000

const QUERIES: { name: string; sql: string; params: PruneValue[] }[] = [
  { name: 'point (literal)', sql: "SELECT * FROM logs WHERE host_name = 'host-7' ORDER BY time DESC LIMIT 10", params: [] },
  { name: 'point ($1)', sql: 'SELECT * FROM logs WHERE host_name = $1 ORDER BY time DESC LIMIT 10', params: [{ text: 'host-7' }] },
  { name: 'one cluster, aggregate ($1)', sql: 'SELECT namespace_name, count(*) FROM alerts WHERE cluster_name = $1 GROUP BY 1', params: [{ text: 'c3' }] },
  { name: 'hosts IN list', sql: "SELECT count(*) FROM logs WHERE host_name IN ('host-1', 'host-2', 'host-3')", params: [] },
  { name: 'top-N, every edge', sql: 'SELECT * FROM logs ORDER BY time DESC LIMIT 10', params: [] },
  { name: 'fan-out aggregate', sql: 'SELECT host_name, count(*) FROM logs GROUP BY 1', params: [] },
]

function table(host: string, cluster: string): TableSynopsis {
  return { rows: 50_000, minTime: NOW_US - 7 * DAY_US, maxTime: NOW_US + 60_000_000, values: { cluster_name: [cluster], host_name: [host], namespace_name: ['default', 'kube-system', 'payments', null], tags: [] } }
}

function view(n: number): EdgeEndpoint[] {
  return Array.from({ length: n }, (_, i) => {
    const edgeId = `edge-${i}`
    const cluster = `c${i % 10}`
    const synopsis = { edgeId, version: 1, publishedAt: '2026-12-07T00:00:00Z', schemaVersion: 1, tables: { alerts: table(`host-${i}`, cluster), logs: table(`host-${i}`, cluster) } }
    return { edgeId, host: `10.0.${i >> 8}.${i & 255}`, port: 5433, shard: edgeId, cluster, tags: [], schemaVersion: 1, status: 'passing', synopsis, synopsisCurrentAt: Number.MAX_SAFE_INTEGER, tls: false }
  })
}

function cpuMicros(f: () => void, times: number): number {
  const start = process.cpuUsage()
  for (let i = 0; i < times; i++) f()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / times
}

await loadParser()
const rows: string[][] = []
for (const n of SIZES) {
  const edges = view(n)
  for (const q of QUERIES) {
    const select = parseStatements(q.sql)[0]!.node.SelectStmt as PlanInput['select']
    const input: PlanInput = { select, edges, params: q.params, paramCount: q.params.length, now: Date.now(), synopsisMaxAgeMs: 5000, statementTime: '2026-12-07 12:00:00+00', utcSession: true, searchPath: ['$user', 'public'], maxGatherRows: 1_000_000 }
    const p = plan(input)
    const fetch = p.tier === 'gather' ? p.feeds[0]!.fetch! : p.fetch
    cpuMicros(() => plan(input), WARMUP)
    const us = median(Array.from({ length: ROUNDS }, () => cpuMicros(() => plan(input), PER_ROUND)))
    rows.push([String(n), q.name, p.tier, String(fetch.targets.length), String(fetch.pruned.length), fmt(us, 1), fmt((us * 1000) / n, 0)])
  }
}
console.log('| N | query | tier | shards asked | pruned | µs per plan | ns per edge |')
console.log('|---|---|---|---:|---:|---:|---:|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
