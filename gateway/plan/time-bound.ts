/**
 * Top-N on time over many shards: "the latest 20 alerts" need not ask every edge. The shards
 * whose published time bounds are newest (oldest, for ascending order) are asked first; once
 * their rows are in, the n-th of them (n = LIMIT + OFFSET) is a bar that a row must pass to be
 * in the answer, and a shard whose every row is older than the bar (its synopsis's maxTime is
 * below it) cannot place one. Only the shards that can are asked then. This is pruning by
 * `time >= bar`, with the synopsis rules of any time condition (prune.ts): an edge whose synopsis
 * is not current is always asked, in the first round.
 *
 * Exact: every row of a skipped shard is older than n rows already found, so it sorts after
 * them, and the answer is within the first n. It costs a second round when the first one does
 * not rule out the rest, so it is used only where the fan-out is wide and the synopses suggest
 * that the second round can leave out most shards: not when every edge holds recent rows.
 */
import type { TableSynopsis } from '../../schema/synopsis.js'
import type { EdgeEndpoint } from '../discovery/edge-view.js'
import { chooseTargets, type Restrictions } from './prune.js'
import type { PrunedEdge, ShardTarget } from './types.js'

/** Shards at least this many, or the full fan-out is asked at once. */
export const TIME_BOUND_MIN_SHARDS = 16
/** Shards with the newest bounds asked first (besides those without a current synopsis). */
export const TIME_BOUND_FIRST = 4
/** LIMIT + OFFSET at most this: the first round's rows are held until the bar is known. */
export const TIME_BOUND_MAX_ROWS = 1000

export interface TimeBound {
  readonly table: 'alerts' | 'logs'
  /** ORDER BY time DESC (the bar is a lower bound) or ASC (an upper one). */
  readonly desc: boolean
  /** Rows the answer needs: LIMIT + OFFSET. */
  readonly rows: number
  /** The shards asked first. */
  readonly first: readonly ShardTarget[]
  /** The other shards, asked once the bar is known if their time bounds can pass it. */
  readonly later: readonly ShardTarget[]
  /** What laterTargets needs to apply the synopsis rules: the statement's own restrictions and the view. */
  readonly restrictions: Restrictions | null
  readonly edges: readonly EdgeEndpoint[]
  readonly now: number
  readonly maxAgeMs: number
  readonly turn: number
}

/** A shard's published rows and time span, when its synopsis is current; null otherwise. */
function spanOf(t: ShardTarget, table: 'alerts' | 'logs', now: number, maxAgeMs: number): { rows: number; min: number; max: number } | null {
  const s = currentTable(t, table, now, maxAgeMs)
  return s === null ? null : { rows: s.rows, min: s.minTime!, max: s.maxTime! }
}

/** The shard's table synopsis, when current and the table holds rows; null otherwise. */
function currentTable(t: ShardTarget, table: 'alerts' | 'logs', now: number, maxAgeMs: number): TableSynopsis | null {
  const e = t.replicas[0]!
  if (!e.synopsis || now - e.synopsisCurrentAt > maxAgeMs) return null
  const s = e.synopsis.tables[table]
  return s.minTime === null || s.maxTime === null ? null : s
}

/**
 * Where the bar will likely fall: the time past which the first shards hold `n` rows, taking
 * each shard's rows as spread evenly over its span. Null when they hold fewer. Only a guess, to
 * decide whether a second round can pay; the bar itself comes from the rows.
 */
function likelyBar(spans: readonly { rows: number; min: number; max: number }[], n: number, desc: boolean): number | null {
  if (spans.reduce((sum, s) => sum + s.rows, 0) < n) return null
  const beyond = (t: number) =>
    spans.reduce((sum, s) => {
      const share = s.max === s.min ? (desc ? Number(t <= s.max) : Number(t >= s.min)) : Math.min(1, Math.max(0, desc ? (s.max - t) / (s.max - s.min) : (t - s.min) / (s.max - s.min)))
      return sum + s.rows * share
    }, 0)
  let lo = Math.min(...spans.map((s) => s.min))
  let hi = Math.max(...spans.map((s) => s.max))
  // Bisect for the newest t (desc) with n rows at or past it; the oldest one for ascending order.
  for (let i = 0; i < 60 && hi - lo > 1; i++) {
    const mid = lo + (hi - lo) / 2
    if (beyond(mid) >= n === desc) lo = mid
    else hi = mid
  }
  return desc ? lo : hi
}

/** Splits a wide top-N's shards into those asked first and later, or undefined when it would not pay. */
export function timeBound(input: Omit<TimeBound, 'first' | 'later'> & { readonly targets: readonly ShardTarget[] }): TimeBound | undefined {
  const { targets, table, desc, rows, now, maxAgeMs } = input
  if (targets.length < TIME_BOUND_MIN_SHARDS || rows > TIME_BOUND_MAX_ROWS || rows <= 0) return undefined
  // One pass over the fan-out (thousands of shards in a large network): the shards without a
  // current synopsis, and the TIME_BOUND_FIRST newest bounds (oldest, ascending), earliest first
  // among equals.
  const first: ShardTarget[] = []
  const bounds = new Float64Array(targets.length)
  const head: number[] = []
  let spanned = 0
  const better = (a: number, b: number) => (desc ? bounds[a]! > bounds[b]! : bounds[a]! < bounds[b]!)
  targets.forEach((t, i) => {
    const s = currentTable(t, table, now, maxAgeMs)
    if (s === null) {
      bounds[i] = NaN
      first.push(t)
      return
    }
    bounds[i] = desc ? s.maxTime! : s.minTime!
    spanned++
    if (head.length === TIME_BOUND_FIRST && !better(i, head[head.length - 1]!)) return
    let at = head.length
    while (at > 0 && better(i, head[at - 1]!)) at--
    head.splice(at, 0, i)
    if (head.length > TIME_BOUND_FIRST) head.pop()
  })
  const tail = spanned - head.length
  if (tail < TIME_BOUND_FIRST) return undefined
  // Two rounds pay only if the second can leave out most shards: not when every edge holds
  // recent rows (live edges, whose bounds all run to now and a lease past it).
  const bar = likelyBar(head.map((i) => spanOf(targets[i]!, table, now, maxAgeMs)!), rows, desc)
  if (bar === null) return undefined
  const inHead = new Set(head)
  const later: ShardTarget[] = []
  let reaching = 0
  targets.forEach((t, i) => {
    const b = bounds[i]!
    if (Number.isNaN(b) || inHead.has(i)) return
    later.push(t)
    if (desc ? b >= bar : b <= bar) reaching++
  })
  if (reaching > tail / 2) return undefined
  first.push(...head.map((i) => targets[i]!))
  return { table, desc, rows, first, later, restrictions: input.restrictions, edges: input.edges, now, maxAgeMs, turn: input.turn }
}

/**
 * The later shards that can place a row past `bar` (microseconds since the Unix epoch; null when
 * the first round found fewer rows than the answer needs: all of them), and the others with why.
 */
export function laterTargets(b: TimeBound, bar: number | null): { targets: ShardTarget[]; pruned: PrunedEdge[] } {
  if (bar === null) return { targets: [...b.later], pruned: [] }
  const r = b.restrictions
  const base: Restrictions = r ?? { values: new Map(), tagsAll: new Set(), tagsAny: [], lo: null, hi: null, notes: [] }
  const barred: Restrictions = b.desc ? { ...base, lo: base.lo === null ? bar : Math.max(base.lo, bar) } : { ...base, hi: base.hi === null ? bar : Math.min(base.hi, bar) }
  const shards = new Set(b.later.map((t) => t.shard))
  const chosen = chooseTargets(b.edges, [{ table: b.table, r: barred }], b.now, b.maxAgeMs, b.turn)
  const kept = new Set(chosen.targets.map((t) => t.shard))
  const at = new Date(bar / 1000).toISOString()
  const why = `${b.table}.time: every row is ${b.desc ? 'older' : 'newer'} than the ${ordinal(b.rows)} row found on the shards asked first (${at})`
  return {
    targets: b.later.filter((t) => kept.has(t.shard)),
    pruned: chosen.pruned.filter((p) => shards.has(p.shard)).map((p) => ({ ...p, reason: why })),
  }
}

export const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`
