/**
 * Pruning: which shards can hold rows that match. Only top-level conjuncts on the synopsis
 * columns, compared with constants or bound parameters, can prune; anything else keeps the
 * edge. An attribute an edge does not advertise (a value set past its cap, an unknown or stale
 * synopsis) never prunes it. Every pruned edge gets a reason for EXPLAIN.
 */
import type { SynopsisColumn, TableSynopsis } from '../../schema/synopsis.js'
import type { EdgeEndpoint } from '../discovery/edge-view.js'
import { body, conjuncts, kind, refNames, type Node } from './ast.js'
import { arrayValues, textValue, timeValue, type PruneContext } from './prune-values.js'
import type { PrunedEdge, ShardTarget } from './types.js'
import { kept } from '../../common/kept.js'

// Part of restrictionsOf's signature: importable from here, as before.
export type { PruneContext } from './prune-values.js'

type ValueColumn = Exclude<SynopsisColumn, 'tags'>
const VALUE_COLUMNS = new Set<string>(['cluster_name', 'host_name', 'namespace_name'])

export interface Restrictions {
  /** Allowed values per column (intersection of all conjuncts on it). */
  readonly values: Map<ValueColumn, Set<string>>
  /** Tags every matching row has (`tags @> ARRAY[...]`). */
  readonly tagsAll: Set<string>
  /** Sets of which a matching row has at least one (`tags && ARRAY[...]`). */
  readonly tagsAny: Set<string>[]
  /** Bounds on time in microseconds: rows lie in [lo, hi] (inclusive, already adjusted). */
  lo: number | null
  hi: number | null
  readonly notes: string[]
}

export interface RelationRef {
  /** The names a column may be qualified with (alias, or table name). */
  readonly qualifiers: readonly string[]
  /** Whether unqualified columns belong to this relation (it is the only one in FROM). */
  readonly unqualified: boolean
}

function columnOf(n: unknown, rel: RelationRef): string | undefined {
  if (kind(n) !== 'ColumnRef') return undefined
  const names = refNames(body(n))
  if (names.length === 1) return rel.unqualified ? names[0] : undefined
  if (names.length === 2 && rel.qualifiers.includes(names[0]!)) return names[1]
  return undefined
}

const FLIP: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '=': '=' }

export function restrictionsOf(where: unknown, rel: RelationRef, ctx: PruneContext): Restrictions {
  const r: Restrictions = { values: new Map(), tagsAll: new Set(), tagsAny: [], lo: null, hi: null, notes: [] }
  const allow = (col: ValueColumn, vals: (string | null)[]) => {
    const set = new Set(vals.filter((v): v is string => v !== null))
    const prev = r.values.get(col)
    r.values.set(col, prev ? new Set([...prev].filter((v) => set.has(v))) : set)
  }
  const bound = (opName: string, micros: number) => {
    if (opName === '>=' || opName === '=') r.lo = r.lo === null ? micros : Math.max(r.lo, micros)
    if (opName === '>') r.lo = r.lo === null ? micros + 1 : Math.max(r.lo, micros + 1)
    if (opName === '<=' || opName === '=') r.hi = r.hi === null ? micros : Math.min(r.hi, micros)
    if (opName === '<') r.hi = r.hi === null ? micros - 1 : Math.min(r.hi, micros - 1)
  }
  for (const c of conjuncts(where)) {
    if (kind(c) !== 'A_Expr') continue
    const e = body(c)
    const opName = ((e.name as Node[] | undefined)?.[0]?.String as { sval?: string } | undefined)?.sval
    let col = columnOf(e.lexpr, rel)
    let other: unknown = e.rexpr
    let o = opName
    if (!col && e.kind === 'AEXPR_OP' && opName && FLIP[opName]) {
      col = columnOf(e.rexpr, rel)
      other = e.lexpr
      o = FLIP[opName]
    }
    if (!col || !o) continue
    if (VALUE_COLUMNS.has(col)) {
      const vc = col as ValueColumn
      if (e.kind === 'AEXPR_OP' && o === '=') {
        const v = textValue(other, ctx)
        if (v !== undefined) allow(vc, [v])
      } else if (e.kind === 'AEXPR_IN' && o === '=') {
        const items = (body(other).items as Node[]).map((x) => textValue(x, ctx))
        if (items.every((v) => v !== undefined)) allow(vc, items as (string | null)[])
      } else if (e.kind === 'AEXPR_OP_ANY' && o === '=') {
        const arr = arrayValues(other, ctx)
        if (arr) allow(vc, arr)
      }
    } else if (col === 'tags' && e.kind === 'AEXPR_OP') {
      const arr = arrayValues(other, ctx)
      if (!arr) continue
      if (o === '@>' && other === e.rexpr) for (const t of arr) if (t !== null) r.tagsAll.add(t)
      if (o === '&&') r.tagsAny.push(new Set(arr.filter((t): t is string => t !== null)))
    } else if (col === 'time') {
      if (e.kind === 'AEXPR_OP' && (o === '<' || o === '<=' || o === '>' || o === '>=' || o === '=')) {
        const t = timeValue(other, ctx)
        if (t !== undefined) bound(o, t)
      } else if (e.kind === 'AEXPR_BETWEEN') {
        const [a, b] = (body(other).items as Node[]).map((x) => timeValue(x, ctx))
        if (a !== undefined) bound('>=', a)
        if (b !== undefined) bound('<=', b)
      }
    }
  }
  return r
}

const show = (vals: Iterable<string>) => [...vals].slice(0, 5).map((v) => `'${v}'`).join(', ')

/** Whether `have` holds any of `wanted`. A synopsis lists a few values per column, rarely more. */
function holdsAny(have: readonly (string | null)[], wanted: Iterable<string>): boolean {
  for (const v of wanted) if (have.includes(v)) return true
  return false
}

/**
 * Why a table of an edge holds no matching row (undefined if it may), for one statement's
 * restrictions on that table. A statement checks every edge of the view, thousands in a large
 * network: the reasons are written once per statement, not once per edge.
 */
export function reasonJudge(table: string, r: Restrictions): (t: TableSynopsis) => string | undefined {
  const noRows = `${table}: no rows`
  const values = [...r.values].map(([col, allowed]) => ({ col, allowed, why: `${table}.${col}: holds none of ${allowed.size ? show(allowed) : 'the values asked for'}` }))
  const tagsAll = [...r.tagsAll].map((tag) => ({ tag, why: `${table}.tags: no row is tagged '${tag}'` }))
  const tagsAny = r.tagsAny.map((any) => ({ any, why: `${table}.tags: no row has any of ${show(any)}` }))
  const { lo, hi } = r
  return (t) => {
    if (t.minTime === null || t.maxTime === null) return noRows
    for (const v of values) {
      const have = t.values[v.col]
      if (have !== 'any' && !holdsAny(have, v.allowed)) return v.why
    }
    const tags = t.values.tags
    if (tags !== 'any') {
      for (const x of tagsAll) if (!tags.includes(x.tag)) return x.why
      for (const x of tagsAny) if (!holdsAny(tags, x.any)) return x.why
    }
    if (lo !== null && t.maxTime < lo) return `${table}.time: newest row is before the range asked for`
    if (hi !== null && t.minTime > hi) return `${table}.time: oldest row is after the range asked for`
    if (lo !== null && hi !== null && lo > hi) return `${table}.time: the range asked for is empty`
    return undefined
  }
}

const RANK: Record<string, number> = { passing: 0, warning: 1, unknown: 2 }

export interface Targets {
  readonly targets: ShardTarget[]
  readonly pruned: PrunedEdge[]
  readonly unavailable: { shard: string; edgeIds: string[] }[]
}

/**
 * Groups edges by shard, orders each shard's healthy replicas, and prunes shards whose
 * preferred replica's fresh synopsis rules out every referenced table (`tables` pairs a table
 * with its restrictions; a shard is kept if any table may match).
 */
export function chooseTargets(edges: readonly EdgeEndpoint[], tables: readonly { table: 'alerts' | 'logs'; r: Restrictions | null }[], now: number, maxAgeMs: number, turn = 0): Targets {
  const out: Targets = { targets: [], pruned: [], unavailable: [] }
  const judges = tables.map(({ table, r }) => ({ table, judge: r ? reasonJudge(table, r) : (t: TableSynopsis) => (t.minTime === null ? `${table}: no rows` : undefined) }))
  /** Why an edge's fresh synopsis rules out every referenced table, if it does. */
  const ruledOut = (e: EdgeEndpoint): string | undefined => {
    const syn = e.synopsis
    if (syn === null || now - e.synopsisCurrentAt > maxAgeMs || judges.length === 0) return undefined
    const first = judges[0]!.judge(syn.tables[judges[0]!.table])
    if (first === undefined || judges.length === 1) return first
    const reasons = [first]
    for (let i = 1; i < judges.length; i++) {
      const why = judges[i]!.judge(syn.tables[judges[i]!.table])
      if (why === undefined) return undefined
      reasons.push(why)
    }
    return reasons.join('; ')
  }
  for (const g of shardsOf(edges)) {
    // The best-ranked replicas take turns going first; the rest stay behind them in rank order.
    const k = g.best > 1 ? turn % g.best : 0
    const healthy = k === 0 ? g.ranked : [...g.ranked.slice(k, g.best), ...g.ranked.slice(0, k), ...g.ranked.slice(g.best)]
    const first = healthy[0]
    // A shard with no healthy replica is still pruned when a fresh synopsis of one of them rules
    // it out (a synopsis covers every row committed before it is published): a statement that
    // cannot need it does not fail for it.
    const reason = first ? ruledOut(first) : g.members.map(ruledOut).find((x) => x !== undefined)
    if (reason !== undefined) {
      for (const e of g.members) out.pruned.push({ edgeId: e.edgeId, shard: g.shard, reason })
      continue
    }
    if (!first) {
      out.unavailable.push({ shard: g.shard, edgeIds: g.members.map((e) => e.edgeId) })
      continue
    }
    out.targets.push(k === 0 ? g.target : { shard: g.shard, replicas: healthy })
  }
  return out
}

/** A shard of a view: its members, its healthy replicas best first, and how many rank best. */
interface ShardGroup {
  readonly shard: string
  readonly members: readonly EdgeEndpoint[]
  readonly ranked: readonly EdgeEndpoint[]
  readonly best: number
  /** The shard asked of its ranked replicas in their order (made once per view). */
  readonly target: ShardTarget
}

/** Shards by view: a view's edge list is replaced, never changed, when the network changes. */
const shardGroups = new WeakMap<readonly EdgeEndpoint[], readonly ShardGroup[]>()

function shardsOf(edges: readonly EdgeEndpoint[]): readonly ShardGroup[] {
  return kept(shardGroups, edges, () => groupShards(edges))
}

function groupShards(edges: readonly EdgeEndpoint[]): readonly ShardGroup[] {
  const shards = new Map<string, EdgeEndpoint[]>()
  for (const e of edges) {
    const list = shards.get(e.shard) ?? []
    list.push(e)
    shards.set(e.shard, list)
  }
  return [...shards]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([shard, members]): ShardGroup => {
      const ranked = members.filter((e) => e.status !== 'critical').sort((a, b) => RANK[a.status]! - RANK[b.status]! || (a.edgeId < b.edgeId ? -1 : 1))
      return { shard, members, ranked, best: ranked.filter((e) => e.status === ranked[0]?.status).length, target: { shard, replicas: ranked } }
    })
}

