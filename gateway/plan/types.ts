/**
 * A distributed plan is data: which shards are asked what, and how their answers become the
 * client's. The planner builds it from a statement and a snapshot of the edge network; the
 * executor carries it out; EXPLAIN prints it.
 */
import type { EdgeEndpoint } from '../discovery/edge-view.js'
import type { SessionValues } from './session-values.js'
import type { TimeBound } from './time-bound.js'

export type Tier = 'router' | 'union' | 'merge-sorted' | 'partial-aggregate' | 'gather'

/** One shard to ask: its replicas in order of preference (the first healthy one answers). */
export interface ShardTarget {
  readonly shard: string
  readonly replicas: readonly EdgeEndpoint[]
}

export interface PrunedEdge {
  readonly edgeId: string
  readonly shard: string
  readonly reason: string
}

/** A statement sent to a set of shards. */
export interface Fetch {
  /** What the edges run; `$n` are the client's parameters (sent only if `usesParams`). */
  readonly sql: string
  readonly usesParams: boolean
  readonly targets: readonly ShardTarget[]
  readonly pruned: readonly PrunedEdge[]
  /** Shards with no healthy replica: their rows are unavailable. */
  readonly unavailable: readonly { readonly shard: string; readonly edgeIds: readonly string[] }[]
  /** Trailing columns holding sort keys, requested in binary and cut before relaying. */
  readonly hiddenColumns: number
}

export type SortType = 'int' | 'timestamptz' | 'text' | 'bool'

export interface SortKey {
  /** Index among the hidden trailing columns. */
  readonly column: number
  readonly type: SortType
  readonly desc: boolean
  readonly nullsFirst: boolean
}

/** Rows of one relation shipped to the gateway: distinct rows of the needed columns with counts. */
export interface Feed {
  readonly relation: 'alerts' | 'logs' | 'fedgres.sources' | 'fedgres.fired_alerts' | 'fedgres.edges'
  /** The relation's columns in table order, with their types; unneeded ones are sent as NULL. */
  readonly columns: readonly { readonly name: string; readonly type: string; readonly needed: boolean }[]
  /** The first parameter number of this feed's arrays in the local statement. */
  readonly paramBase: number
  /**
   * The arrays' element types (the needed columns', then bigint for the count) when the rows
   * travel in binary and the arrays are bound in binary; absent: text arrays, cast in the statement.
   */
  readonly binaryTypes?: readonly number[]
  /** Absent for fedgres.edges, which the gateway answers from its own view. */
  readonly fetch?: Fetch
}

export interface RouterPlan {
  readonly tier: 'router'
  readonly fetch: Fetch
}
export interface UnionPlan {
  readonly tier: 'union'
  readonly fetch: Fetch
  readonly offset: number
  readonly limit: number | null
}
export interface MergeSortedPlan {
  readonly tier: 'merge-sorted'
  readonly fetch: Fetch
  readonly keys: readonly SortKey[]
  readonly offset: number
  readonly limit: number | null
  /** A top-N on time over a wide fan-out: the shards asked first, and the rest behind a bar (time-bound.ts). */
  readonly timeBound?: TimeBound
  /** DISTINCT ON: the first this many keys make a group, and only a group's first row is kept. */
  readonly distinctOn?: number
}
export interface PartialAggregatePlan {
  readonly tier: 'partial-aggregate'
  /** Edges group and aggregate partially; `fetch.sql`'s columns are g1..gN then the partials. */
  readonly fetch: Fetch
  readonly combine: CombineSpec
  /** Used when the partial columns' types are not ones the combine can take. */
  readonly fallback: GatherPlan
}
export interface GatherPlan {
  readonly tier: 'gather'
  readonly feeds: readonly Feed[]
  /** The client's statement over the feeds (parameters after the client's are the feeds' arrays). */
  readonly localSql: string
  readonly maxRows: number
}

export type Plan = RouterPlan | UnionPlan | MergeSortedPlan | PartialAggregatePlan | GatherPlan

/** How partial aggregates become the final ones; SQL is built once the partial types are known. */
export interface CombineSpec {
  /** The final statement's syntax tree (JSON), over relation `__p` with columns g1.., p1.. (types filled in later). */
  readonly select: unknown
  readonly partialNames: readonly string[]
  /** Per partial column, how it combines (for the type check). */
  readonly partialKinds: readonly PartialKind[]
  readonly paramCount: number
}

export type PartialKind = 'group' | 'count' | 'sum' | 'min' | 'max' | 'bool_and' | 'bool_or'

/** A parameter value as pruning sees it: text (any text-like or array element), or absent. */
/**
 * A bound value as pruning reads it. `withoutZone`: a timestamp without time zone (or a date),
 * given as text; `instant`: a timestamptz given as text, whose zone counts whatever it is cast to.
 */
export type PruneValue = { readonly text: string | null; readonly withoutZone?: boolean; readonly instant?: boolean } | { readonly array: readonly (string | null)[] } | { readonly micros: number } | undefined

export interface PlanInput {
  readonly select: Record<string, unknown>
  readonly edges: readonly EdgeEndpoint[]
  readonly params: readonly PruneValue[]
  readonly paramCount: number
  /** Date.now() when planning; synopses older than `synopsisMaxAgeMs` do not prune. */
  readonly now: number
  readonly synopsisMaxAgeMs: number
  /** The statement's timestamp (statement_timestamp()), to the microsecond, as every edge must see it. */
  readonly statementTime: string
  /** The transaction's (now(), CURRENT_TIMESTAMP, ...); the statement's when not given. */
  readonly transactionTime?: string
  /**
   * When the statement's 'now' constants were read: the transaction's time at Parse, for a
   * prepared statement (PostgreSQL reads them once); the transaction's when not given.
   */
  readonly wordsTime?: string
  /**
   * The session's identity, for a statement that reads it (current_user, current_database(), ...):
   * the planner puts the values in its place (session-values.ts).
   */
  readonly session?: SessionValues
  /** The session's TimeZone is UTC: zone-less timestamp literals may prune. */
  readonly utcSession: boolean
  readonly searchPath: readonly string[]
  readonly maxGatherRows: number
  /** Spreads statements over a shard's equally healthy replicas: this turn's one goes first (default 0). */
  readonly replicaTurn?: number
}
