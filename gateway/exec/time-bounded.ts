/**
 * The two rounds of a time-bounded top-N (plan/time-bound.ts): the first shards' rows, all in
 * hand, set the bar; then only the shards that can pass it are asked, and the first rows and the
 * new streams are merged as any merge-sorted statement's.
 */
import { laterTargets, type TimeBound } from '../plan/time-bound.js'
import type { Fetch, MergeSortedPlan } from '../plan/types.js'
import type { Prepared } from './federated-executor.js'
import { BufferedSource, SortedMerge, trailingFields } from './merge.js'
import { binaryTimestamptzMicros } from './param-values.js'
import type { ShardStream } from './shard-stream.js'

export interface Rounds {
  /** Starts a fetch on its shards. */
  start(fetch: Fetch): Promise<ShardStream[]>
  /** Every row of the streams; a failed shard fails the statement (or is a NOTICE with partial results). */
  collect(streams: readonly ShardStream[]): Promise<Buffer[][]>
}

export async function runTimeBounded(p: Prepared, plan: MergeSortedPlan, b: TimeBound, rounds: Rounds): Promise<{ streams: ShardStream[]; merge: SortedMerge }> {
  const firstRows = await rounds.collect(await rounds.start({ ...plan.fetch, targets: b.first, pruned: [] }))
  const later = laterTargets(b, barOf(firstRows.flat(), plan, b))
  p.runtimePruned.push(...later.pruned)
  const streams = later.targets.length ? await rounds.start({ ...plan.fetch, targets: later.targets, pruned: [], unavailable: [] }) : []
  return { streams, merge: new SortedMerge([...firstRows.map((rows) => new BufferedSource(rows)), ...streams], plan.keys, p.columns) }
}

/** The bar: the n-th best time among the first round's rows, or null when they are fewer than n. */
function barOf(rows: readonly Buffer[], plan: MergeSortedPlan, b: TimeBound): number | null {
  if (rows.length < b.rows) return null
  // The time key is a binary timestamptz among the sort keys the merge appended to each row.
  const times = rows.map((r) => binaryTimestamptzMicros(trailingFields(r, plan.keys.length)[plan.keys[0]!.column]!))
  times.sort((x, y) => (b.desc ? y - x : x - y))
  return times[b.rows - 1]!
}
