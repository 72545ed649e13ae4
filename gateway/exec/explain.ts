/**
 * EXPLAIN [ANALYZE] of a statement over Fedgres's tables: the distributed plan, not a local
 * one. It names the tier, the shards asked (and the replica that answered), every pruned edge
 * with its reason, and the SQL each edge runs; ANALYZE runs the statement and adds rows and
 * times per edge.
 */
import { BackendEncoder } from '../../common/pgwire/index.js'
import { deparseSelect, type Node } from '../plan/ast.js'
import type { Fetch, Plan } from '../plan/types.js'
import { FrameError } from '../session/frame-error.js'
import { BufferedResult, type ResultStream } from '../session/result.js'
import type { DataQuery } from './data-executor.js'
import type { FederatedExecutor } from './federated-executor.js'

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

export function planLines(plan: Plan): string[] {
  const out = [`Fedgres ${plan.tier}`]
  switch (plan.tier) {
    case 'router':
      out.push(...fetchLines(plan.fetch, '  '))
      break
    case 'union':
      out.push(...fetchLines(plan.fetch, '  '), `  Gateway: append rows as they arrive${plan.limit !== null ? `, LIMIT ${plan.limit} (pushed down; edges cancelled once met)` : ''}${plan.offset ? `, OFFSET ${plan.offset}` : ''}`)
      break
    case 'merge-sorted':
      out.push(...fetchLines(plan.fetch, '  '), `  Gateway: k-way merge on ${plan.keys.length} sort key(s)${plan.limit !== null ? `, LIMIT ${plan.limit}` : ''}${plan.offset ? `, OFFSET ${plan.offset}` : ''}`)
      break
    case 'partial-aggregate':
      out.push(...fetchLines(plan.fetch, '  '), `  Gateway: combine partial aggregates (${plan.combine.partialKinds.join(', ')}) on the local engine`)
      break
    case 'gather':
      for (const f of plan.feeds) {
        out.push(`  Feed ${f.relation}: columns ${f.columns.filter((c) => c.needed).map((c) => c.name).join(', ') || '(row count only)'}`)
        if (f.fetch) out.push(...fetchLines(f.fetch, '    '))
        else out.push('    From the gateway\'s view of the network')
      }
      out.push(`  Gateway: the statement runs on the local engine over the gathered rows (cap fedgres.max_gather_rows = ${plan.maxRows})`, `  Local SQL: ${plan.localSql.replace(/\s+/g, ' ')}`)
      break
  }
  return out
}

export async function explainResult(exec: FederatedExecutor, q: DataQuery): Promise<ResultStream> {
  const explain = q.statement.node.ExplainStmt as Node
  const inner = (explain.query as Node).SelectStmt as Node
  const analyze = ((explain.options as Node[] | undefined) ?? []).some((o) => {
    const d = o.DefElem as Node
    return d.defname === 'analyze' && !(d.arg && (d.arg as Node).Boolean && !((d.arg as Node).Boolean as Node).boolval)
  })
  const own = await q.runner.probe(q.owner, { sql: q.statement.text, paramTypes: q.paramTypes, params: q.params, paramFormats: q.paramFormats, resultFormats: q.resultFormats })
  if (own.error) throw new FrameError(own.error)
  const p = await exec.prepare({ ...q, resultFormats: [] }, deparseSelect(inner), inner)
  const lines = planLines(p.plan)
  if (analyze) {
    const started = performance.now()
    const result = await exec.run(p)
    let rows = 0
    while (await result.next()) rows++
    lines.push(`  Rows returned: ${rows}; total ${(performance.now() - started).toFixed(3)} ms`)
    for (const s of p.stats) lines.push(`  -> shard ${s.shard}: edge ${s.edgeId}: ${s.rows} rows in ${s.ms.toFixed(3)} ms${s.failovers.length ? ` (after failover from ${s.failovers.join('; ')})` : ''}`)
  }
  const enc = new BackendEncoder()
  const frames = lines.map((l) => enc.dataRow([l]).take())
  return new BufferedResult(own.result?.rowDescription ?? null, frames, `EXPLAIN`, p.notices)
}
