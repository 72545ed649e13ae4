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
  const e = t.replicas[0]!
  if (!e.synopsis || now - e.synopsisCurrentAt > maxAgeMs) return null
  const s = e.synopsis.tables[table]
  return s.minTime === null || s.maxTime === null ? null : { rows: s.rows, min: s.minTime, max: s.maxTime }
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
  const bounded: { t: ShardTarget; bound: number; span: { rows: number; min: number; max: number } }[] = []
  const first: ShardTarget[] = []
  for (const t of targets) {
    const span = spanOf(t, table, now, maxAgeMs)
    if (span === null) first.push(t)
    else bounded.push({ t, bound: desc ? span.max : span.min, span })
  }
  bounded.sort((a, b) => (desc ? b.bound - a.bound : a.bound - b.bound))
  const head = bounded.slice(0, TIME_BOUND_FIRST)
  const tail = bounded.slice(TIME_BOUND_FIRST)
  if (tail.length < TIME_BOUND_FIRST) return undefined
  // Two rounds pay only if the second can leave out most shards: not when every edge holds
  // recent rows (live edges, whose bounds all run to now and a lease past it).
  const bar = likelyBar(head.map((x) => x.span), rows, desc)
  if (bar === null || tail.filter((x) => (desc ? x.bound >= bar : x.bound <= bar)).length > tail.length / 2) return undefined
  first.push(...head.map((x) => x.t))
  const later = tail.map((x) => x.t)
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
  const at = new Date(bar / 1000).toISOString()
  const why = `${b.table}.time: every row is ${b.desc ? 'older' : 'newer'} than the ${ordinal(b.rows)} row found on the shards asked first (${at})`
  return {
    targets: b.later.filter((t) => chosen.targets.some((c) => c.shard === t.shard)),
    pruned: chosen.pruned.filter((p) => shards.has(p.shard)).map((p) => ({ ...p, reason: why })),
  }
}

export const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`
