/**
 * EXPLAIN [ANALYZE] of a statement over Fedgres's tables: the distributed plan, not a local
 * one. It names the tier, the shards asked (and the replica that answered), every pruned edge
 * with its reason, and the SQL each edge runs; ANALYZE runs the statement and adds rows and
 * times per edge.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { BackendEncoder } from '../../common/pgwire/index.js'
import { deparseSelect, type Node } from '../plan/ast.js'
import { ordinal, type TimeBound } from '../plan/time-bound.js'
import type { Fetch, Plan } from '../plan/types.js'
import { FrameError } from '../session/frame-error.js'
import { BufferedResult, type ResultStream } from '../session/result.js'
import type { DataQuery } from './data-executor.js'
import type { FederatedExecutor } from './federated-executor.js'
import type { PartRun } from './run-apart.js'
import type { ShardStats } from './shard-stream.js'

function fetchLines(f: Fetch, indent: string): string[] {
  const out = [`${indent}Shards asked: ${f.targets.length}`]
  for (const t of f.targets) out.push(`${indent}  -> shard ${t.shard}: edge ${t.replicas[0]!.edgeId}${t.replicas.length > 1 ? ` (replicas: ${t.replicas.map((r) => r.edgeId).join(', ')})` : ''}`)
  if (f.pruned.length) {
    out.push(`${indent}Edges pruned: ${f.pruned.length}`)
    for (const p of f.pruned) out.push(`${indent}  -> edge ${p.edgeId} (shard ${p.shard}): ${p.reason}`)
  }
  for (const u of f.unavailable) out.push(`${indent}Shard unavailable: ${u.shard} (${u.edgeIds.join(', ')}: no healthy edge)`)
  out.push(`${indent}Edge SQL: ${f.sql.replace(/\s+/g, ' ')}`)
  return out
}

function timeBoundLine(b: TimeBound): string {
  return `Time-bounded: first asks ${b.first.length} shard(s) (${b.first.map((t) => t.shard).join(', ')}), then only those of the other ${b.later.length} whose rows can reach the ${ordinal(b.rows)} row found`
}

/** What the gateway itself does with the edges' rows, for both forms of EXPLAIN. */
function gatewayStep(plan: Plan): string | undefined {
  const limits = (limit: number | null, offset: number) => `${limit !== null ? `, LIMIT ${limit}` : ''}${offset ? `, OFFSET ${offset}` : ''}`
  switch (plan.tier) {
    case 'router':
      return undefined
    case 'union':
      return `append rows as they arrive${plan.limit !== null ? `, LIMIT ${plan.limit} (pushed down; edges cancelled once met)` : ''}${plan.offset ? `, OFFSET ${plan.offset}` : ''}`
    case 'merge-sorted':
      return `k-way merge on ${plan.keys.length} sort key(s)${plan.distinctOn ? `, the first row of each DISTINCT ON group (${plan.distinctOn} key(s))` : ''}${limits(plan.limit, plan.offset)}`
    case 'partial-aggregate':
      return `combine partial aggregates (${plan.combine.partialKinds.join(', ')}) on the local engine`
    case 'gather':
      return `the statement runs on the local engine over the gathered rows (cap fedgres.max_gather_rows = ${plan.maxRows})`
  }
}

/** `$3` or `$3..$5`: the parameters a part's result is bound to. */
const paramsOf = (i: PartRun) => (i.params === 1 ? `$${i.param}` : `$${i.param}..$${i.param + i.params - 1}`)

/** The parts run before the statement was planned, each with its own plan, indented. */
function partLines(parts: readonly PartRun[], indent: string): string[] {
  return parts.flatMap((i, n) => [
    `${indent}InitPlan ${n + 1} (returns ${paramsOf(i)}: ${i.what}): ${i.rows} row(s) in ${i.ms.toFixed(3)} ms, run before the statement was planned`,
    ...planLines(i.plan, i.parts).map((l) => `${indent}    ${l}`),
  ])
}

export function planLines(plan: Plan, parts: readonly PartRun[] = []): string[] {
  const out = [`Fedgres ${plan.tier}`, ...partLines(parts, '  ')]
  if (plan.tier === 'gather') {
    for (const f of plan.feeds) {
      out.push(`  Feed ${f.relation}: columns ${f.columns.filter((c) => c.needed).map((c) => c.name).join(', ') || '(row count only)'}`)
      if (f.fetch) out.push(...fetchLines(f.fetch, '    '))
      else out.push('    From the gateway\'s view of the network')
    }
  } else out.push(...fetchLines(plan.fetch, '  '))
  const step = gatewayStep(plan)
  if (step) out.push(`  Gateway: ${step}`)
  if (plan.tier === 'merge-sorted' && plan.timeBound) out.push(`  ${timeBoundLine(plan.timeBound)}`)
  if (plan.tier === 'gather') out.push(`  Local SQL: ${plan.localSql.replace(/\s+/g, ' ')}`)
  return out
}

/** A fetch as EXPLAIN (FORMAT JSON) shows it: each shard a Foreign Scan, pruned edges with their reasons. */
function fetchJson(f: Fetch, stats: readonly ShardStats[] | undefined): Record<string, unknown> {
  return {
    'Remote SQL': f.sql.replace(/\s+/g, ' '),
    Plans: f.targets.map((t) => {
      const s = stats?.find((x) => x.shard === t.shard)
      return {
        'Node Type': 'Foreign Scan',
        'Parent Relationship': 'Member',
        Shard: t.shard,
        Edge: s?.edgeId ?? t.replicas[0]!.edgeId,
        Replicas: t.replicas.map((r) => r.edgeId),
        ...(s ? { 'Actual Rows': s.rows, 'Actual Total Time': Number(s.ms.toFixed(3)), ...(s.failovers.length ? { Failovers: s.failovers } : {}) } : {}),
      }
    }),
    'Edges Pruned': f.pruned.map((p) => ({ Edge: p.edgeId, Shard: p.shard, Reason: p.reason })),
    'Shards Unavailable': f.unavailable.map((u) => ({ Shard: u.shard, Edges: u.edgeIds })),
  }
}

/** The plan in PostgreSQL's EXPLAIN JSON shape: a Custom Scan per statement, a Foreign Scan per shard. */
export function planJson(plan: Plan, stats?: readonly ShardStats[], parts: readonly PartRun[] = []): Record<string, unknown> {
  const gateway = gatewayStep(plan)
  const top: Record<string, unknown> = { 'Node Type': 'Custom Scan', 'Custom Plan Provider': `Fedgres ${plan.tier}`, 'Parallel Aware': false, Tier: plan.tier }
  if (parts.length) {
    top['Init Plans'] = parts.map((i, n) => ({
      'Subplan Name': `InitPlan ${n + 1} (returns ${paramsOf(i)})`,
      Returns: i.what,
      'Actual Rows': i.rows,
      'Actual Total Time': Number(i.ms.toFixed(3)),
      'Remote Statement': i.sql.replace(/\s+/g, ' '),
      Plan: planJson(i.plan, undefined, i.parts),
    }))
  }
  if (gateway) top.Gateway = gateway
  if (plan.tier === 'gather') {
    top['Local SQL'] = plan.localSql.replace(/\s+/g, ' ')
    top.Plans = plan.feeds.map((f) => ({
      'Node Type': f.fetch ? 'Append' : 'Function Scan',
      'Parent Relationship': 'Member',
      'Relation Name': f.relation,
      Columns: f.columns.filter((c) => c.needed).map((c) => c.name),
      ...(f.fetch ? fetchJson(f.fetch, stats) : {}),
    }))
  } else Object.assign(top, fetchJson(plan.fetch, stats))
  return top
}

/** An EXPLAIN option (its DefElem), if given. */
const optionOf = (options: readonly Node[], name: string): Node | undefined => options.map((o) => o.DefElem as Node).find((d) => d.defname === name)

export async function explainResult(exec: FederatedExecutor, q: DataQuery): Promise<ResultStream> {
  const explain = q.statement.node.ExplainStmt as Node
  const inner = (explain.query as Node).SelectStmt as Node
  const options = (explain.options as Node[] | undefined) ?? []
  const analyzeArg = optionOf(options, 'analyze')
  const analyze = analyzeArg !== undefined && !(analyzeArg.arg && (analyzeArg.arg as Node).Boolean && !((analyzeArg.arg as Node).Boolean as Node).boolval)
  const format = String(((optionOf(options, 'format')?.arg as Node | undefined)?.String as Node | undefined)?.sval ?? 'text').toLowerCase()
  if (format !== 'text' && format !== 'json') throw new PgError(SqlState.FeatureNotSupported, `EXPLAIN (FORMAT ${format.toUpperCase()}) is not supported by Fedgres`, { hint: 'Use FORMAT TEXT or FORMAT JSON.' })
  const own = await q.runner.probe(q.owner, { sql: q.statement.text, paramTypes: q.paramTypes, params: q.params, paramFormats: q.paramFormats, resultFormats: q.resultFormats })
  if (own.error) throw new FrameError(own.error)
  const p = await exec.prepare({ ...q, resultFormats: [] }, deparseSelect(inner), inner)
  const lines = planLines(p.plan, p.parts)
  let executed: { rows: number; ms: number } | undefined
  if (analyze) {
    const started = performance.now()
    const result = await exec.run(p)
    let rows = 0
    while (await result.next()) rows++
    executed = { rows, ms: performance.now() - started }
    lines.push(`  Rows returned: ${rows}; total ${executed.ms.toFixed(3)} ms`)
    for (const s of p.stats) lines.push(`  -> shard ${s.shard}: edge ${s.edgeId}: ${s.rows} rows in ${s.ms.toFixed(3)} ms${s.failovers.length ? ` (after failover from ${s.failovers.join('; ')})` : ''}`)
    if (p.runtimePruned.length) lines.push(`  Edges skipped while running: ${p.runtimePruned.length}`, ...p.runtimePruned.map((x) => `  -> edge ${x.edgeId} (shard ${x.shard}): ${x.reason}`))
  }
  const enc = new BackendEncoder()
  if (format === 'json') {
    // One row, one json value, as PostgreSQL's EXPLAIN (FORMAT JSON) returns.
    const top = planJson(p.plan, executed ? p.stats : undefined, p.parts)
    if (executed) top['Actual Rows'] = executed.rows
    if (p.plan.tier === 'merge-sorted' && p.plan.timeBound) top['Time Bound'] = timeBoundLine(p.plan.timeBound)
    if (executed && p.runtimePruned.length) top['Edges Skipped While Running'] = p.runtimePruned.map((x) => ({ Edge: x.edgeId, Shard: x.shard, Reason: x.reason }))
    const doc = [{ Plan: top, ...(executed ? { 'Execution Time': Number(executed.ms.toFixed(3)) } : {}) }]
    return new BufferedResult(own.result?.rowDescription ?? null, [enc.dataRow([JSON.stringify(doc, null, 2)]).take()], 'EXPLAIN', p.notices)
  }
  const frames = lines.map((l) => enc.dataRow([l]).take())
  return new BufferedResult(own.result?.rowDescription ?? null, frames, `EXPLAIN`, p.notices)
}
