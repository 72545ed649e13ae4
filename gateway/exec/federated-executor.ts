/**
 * The federation: plans each statement that reads Fedgres's tables against the current edge
 * view, fans it out, and merges or combines the answers so the client gets exactly what one
 * PostgreSQL holding every row would return. Statements are checked and described on the
 * shadow first, so errors, parameter types and RowDescriptions are PostgreSQL's own.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { kept } from '../../common/kept.js'
import type { Logger } from '../../common/log.js'
import type { Discovery } from '../discovery/edge-view.js'
import type { GatewayMetrics } from '../metrics.js'
import { plan } from '../plan/planner.js'
import { readsIdentity } from '../plan/session-values.js'
import type { Fetch, Plan, PrunedEdge } from '../plan/types.js'
import { BufferedResult, RowsThenError, type ResultStream } from '../session/result.js'
import { settingMs } from '../session/setting-duration.js'
import { timestampText } from '../session/clock.js'
import { failedAtBind } from './bind-errors.js'
import type { DataExecutor, DataQuery } from './data-executor.js'
import { DescriptionCache } from './description-cache.js'
import type { EdgePool } from './edge-pool.js'
import type { EdgeRequest } from './edge-statements.js'
import { explainResult } from './explain.js'
import { bindDerivedTables } from './derived-tables.js'
import { bindInitPlans } from './init-plans.js'
import type { BoundStatement, PartRun } from './run-apart.js'
import { runAggregate, runGather, type Fanout } from './local-tiers.js'
import type { LocalResult } from './local-engine.js'
import { ArrivalMerge, SortedMerge, type MergedRows } from './merge.js'
import { pruneValues } from './param-values.js'
import { collectRows, excludeUnavailable, partialRows, ShardsUnavailable } from './partial-results.js'
import { ShardStream, type ShardStats } from './shard-stream.js'
import { SilenceWatch } from './silence-watch.js'
import { failedRows, limitedRows, withCleanup } from './streamed-result.js'
import { runTimeBounded } from './time-bounded.js'
import { SYNOPSIS_MAX_AGE_MS } from '../../schema/synopsis.js'

export interface FederationOptions {
  readonly discovery: Discovery
  readonly pool: EdgePool
  readonly defaults: { readonly edge_timeout: number; readonly max_gather_rows: number; readonly partial_results: boolean }
  /** How long a synopsis may go unconfirmed and still prune (default 5 s). */
  readonly synopsisMaxAgeMs?: number
  readonly log: Logger
  readonly metrics?: GatewayMetrics
}

const ALL_TEXT: readonly number[] = []
/** Text columns then binary sort keys, by column count * 1024 + keys: the usual formats of a merge. */
const textThenBinary = new Map<number, readonly number[]>()

/**
 * Discovery has no view of the edges: Consul has not answered since the gateway started (or its
 * last good view was empty). The events cannot be read, and an empty answer would say there are
 * none: a gateway started while Consul was down answered count(*) with 0.
 */
class NoEdgeView extends PgError {
  constructor() {
    super(SqlState.ConnectionFailure, 'no view of the edges: discovery has not reached Consul', { hint: "The gateway keeps trying; its log says why Consul could not be read." })
  }
}

/** Whether a plan reads events from the edges (not only fedgres.edges, which the view itself answers). */
const readsEvents = (plan: Plan): boolean => plan.tier !== 'gather' || plan.feeds.some((f) => f.relation !== 'fedgres.edges')

/** Whether a statement reads the session's identity, by the parse cache's frozen tree. */
const identityReads = new WeakMap<object, boolean>()
const readsIdentityOf = (select: Record<string, unknown>) => (Object.isFrozen(select) ? kept(identityReads, select, () => readsIdentity(select)) : readsIdentity(select))

export interface Prepared {
  readonly q: DataQuery
  readonly paramTypes: readonly number[]
  readonly paramFormats: readonly number[]
  readonly rowDescription: Buffer | null
  readonly columns: number
  readonly columnTypes: readonly number[]
  readonly plan: Plan
  readonly timeoutMs: number
  readonly partial: boolean
  readonly notices: Buffer[]
  readonly stats: ShardStats[]
  /** Edges skipped while the statement ran (a time-bounded top-N's second round), with why. */
  readonly runtimePruned: PrunedEdge[]
  /** Run when the statement's result is complete or closed. */
  readonly cleanups: (() => void)[]
  /** Parts of the statement run before it was planned, their results bound as parameters (run-apart.ts). */
  readonly parts: readonly PartRun[]
}

export class FederatedExecutor implements DataExecutor {
  /** Counts statements, so a shard's replicas take turns answering. */
  #replicaTurn = 0
  /** Statements as the shadow describes them (description-cache.ts). */
  readonly #descriptions = new DescriptionCache()

  constructor(readonly opts: FederationOptions) {}

  async execute(q: DataQuery): Promise<ResultStream> {
    if (q.statement.type === 'ExplainStmt') return explainResult(this, q)
    const p = await this.prepare(q, q.statement.text, q.statement.node.SelectStmt as Record<string, unknown>)
    // prepare() is PostgreSQL's Bind (analysis, parameters, planning), as is an edge's Bind; what
    // fails after them failed running, which PostgreSQL reports when the rows are asked for.
    try {
      return await this.run(p)
    } catch (e) {
      if (failedAtBind(e)) throw e
      return failedRows(p.rowDescription, p.notices, e)
    }
  }

  setting(q: DataQuery, name: string): string | undefined {
    return q.setting(`fedgres.${name}`)
  }

  /**
   * Describes the statement on the shadow and plans it. Uncorrelated subqueries run first, and
   * the statement is planned with their values (init-plans.ts); a statement that would then be
   * gathered runs its aggregated derived tables apart, and is planned again over their rows
   * (derived-tables.ts).
   */
  async prepare(q: DataQuery, sql: string, written: Record<string, unknown>): Promise<Prepared> {
    const described = await this.#descriptions.describe(q, sql)
    const { rd, columnTypes } = described
    const clientFormats = described.paramTypes.map((_, i) => (q.paramFormats.length === 1 ? q.paramFormats[0]! : (q.paramFormats[i] ?? 0)))
    const settings = await q.outputSettings()
    const tz = settings.find(([n]) => n === 'TimeZone')?.[1] ?? ''
    const timeoutMs = settingMs(this.setting(q, 'edge_timeout')) ?? this.opts.defaults.edge_timeout
    const maxRows = Number(this.setting(q, 'max_gather_rows') ?? this.opts.defaults.max_gather_rows)
    const partialSetting = this.setting(q, 'partial_results')
    const partial = partialSetting === undefined ? this.opts.defaults.partial_results : ['on', 'true', '1', 'yes'].includes(partialSetting.toLowerCase())
    const view = this.opts.discovery.current()
    const planOf = async (b: BoundStatement): Promise<Plan> => {
      const bq = b.q
      return plan({
        select: b.select,
        session: readsIdentityOf(b.select) ? await bq.sessionValues() : undefined,
        edges: view.edges,
        params: pruneValues(b.paramTypes, bq.params, b.paramFormats),
        paramCount: b.paramTypes.length,
        now: Date.now(),
        synopsisMaxAgeMs: this.opts.synopsisMaxAgeMs ?? SYNOPSIS_MAX_AGE_MS,
        // Formatted only for a statement that reads the clock (a Date formatted cost ~5 µs).
        get statementTime() {
          return timestampText(bq.clock.statement)
        },
        get transactionTime() {
          return timestampText(bq.clock.transaction)
        },
        get wordsTime() {
          return bq.clock.parsed === undefined ? undefined : timestampText(bq.clock.parsed)
        },
        utcSession: /^(utc|etc\/utc|gmt|etc\/gmt|z|zulu|universal)$/i.test(tz),
        searchPath: bq.searchPath,
        maxGatherRows: Number.isFinite(maxRows) && maxRows > 0 ? maxRows : this.opts.defaults.max_gather_rows,
        replicaTurn: this.#replicaTurn++,
      })
    }
    const asWritten: BoundStatement = { select: written, q, paramTypes: described.paramTypes, paramFormats: clientFormats, parts: [], notices: [] }
    let s = (await bindInitPlans(this, q, written, described.paramTypes, clientFormats)) ?? asWritten
    let planned = await planOf(s)
    if (planned.tier === 'gather') {
      const derived = await bindDerivedTables(this, s.q, s.select, s.paramTypes, s.paramFormats, planned.maxRows)
      if (derived) {
        s = { ...derived, parts: [...s.parts, ...derived.parts], notices: [...s.notices, ...derived.notices] }
        planned = await planOf(s)
      }
    }
    if (view.stale && view.edges.length === 0 && readsEvents(planned)) throw new NoEdgeView()
    const { paramTypes, paramFormats } = s
    return { q: s.q, paramTypes, paramFormats, rowDescription: rd, columns: columnTypes.length, columnTypes, plan: planned, timeoutMs, partial, notices: [...s.notices], stats: [], runtimePruned: [], cleanups: [], parts: s.parts }
  }

  /** Starts one fetch on its shards (after reporting shards that cannot answer). */
  async fanout(p: Prepared, fetch: Fetch, resultFormats: readonly number[]): Promise<ShardStream[]> {
    if (fetch.unavailable.length > 0) excludeUnavailable(p, fetch)
    // The edges write values, and make text, under the session's output settings; values that
    // would not read back from that text go to the gateway's engine in binary (exact-feed.ts).
    const settings = await p.q.outputSettings()
    const request: EdgeRequest = {
      sql: fetch.sql,
      paramTypes: fetch.usesParams ? p.paramTypes : [],
      params: fetch.usesParams ? p.q.params : [],
      paramFormats: fetch.usesParams ? p.paramFormats : [],
      resultFormats,
      settings,
    }
    const watch = new SilenceWatch(p.timeoutMs)
    const streams = fetch.targets.map((t) => new ShardStream(t, request, this.opts.pool, watch))
    for (const s of streams) p.stats.push(s.stats)
    p.cleanups.push(p.q.onCancel((reason) => streams.forEach((s) => s.cancel(reason))))
    return streams
  }

  /** Client result formats for the visible columns, then binary for `hidden` sort keys. */
  clientFormats(p: Prepared, hidden: number): readonly number[] {
    const f = p.q.resultFormats
    if (f.every((x) => x === 0)) {
      // No format codes: every column in text, as a Bind with none asks.
      if (hidden === 0) return ALL_TEXT
      return kept(textThenBinary, p.columns * 1024 + hidden, () => [...Array<number>(p.columns).fill(0), ...Array<number>(hidden).fill(1)])
    }
    const visible = Array.from({ length: p.columns }, (_, i) => (f.length === 1 ? f[0]! : (f[i] ?? 0)))
    return [...visible, ...Array<number>(hidden).fill(1)]
  }

  /** Runs a statement the gateway wrote itself (an init plan): not counted as the client's. */
  runNested(p: Prepared): Promise<ResultStream> {
    return this.run(p, false)
  }

  async run(p: Prepared, counts = true): Promise<ResultStream> {
    const started = performance.now()
    const done = () => p.cleanups.splice(0).forEach((f) => f())
    // Counted once, when the statement's outcome is known: a streamed reply can still fail late.
    let counted = false
    const outcome = (e?: unknown) => {
      if (counted) return
      counted = true
      const m = counts ? this.opts.metrics : undefined
      if (!m) return
      let asked = 0
      let pruned = 0
      for (const f of p.plan.tier === 'gather' ? p.plan.feeds.map((x) => x.fetch) : [p.plan.fetch]) {
        asked += f?.targets.length ?? 0
        pruned += f?.pruned.length ?? 0
      }
      // A time-bounded top-N asked the shards it ran; the others were skipped while it ran.
      if (p.plan.tier === 'merge-sorted' && p.plan.timeBound) asked = p.stats.length
      pruned += p.runtimePruned.length
      // The edges failed over, then the one that failed the statement or those the view already knew were down.
      const edgeErrors: string[] = []
      for (const s of p.stats) for (const f of s.failovers) edgeErrors.push(f.split(':')[0]!)
      if (e !== undefined) {
        const failed = e instanceof PgError ? /^edge (\S+) failed/.exec(e.message)?.[1] : undefined
        edgeErrors.push(...(failed ? [failed] : e instanceof ShardsUnavailable ? e.edgeIds : []))
      }
      const kind = e === undefined ? 'ok' : e instanceof PgError && e.code === SqlState.ConnectionFailure ? 'edge_error' : 'error'
      m.statement({ tier: p.plan.tier, seconds: (performance.now() - started) / 1000, outcome: kind, asked, pruned, edgeErrors })
    }
    try {
      const result = await this.#runTier(p)
      if (result instanceof BufferedResult) {
        outcome()
        done()
        return result
      }
      return withCleanup(result, (e) => {
        outcome(e)
        done()
      })
    } catch (e) {
      outcome(e)
      done()
      throw e
    }
  }

  async #runTier(p: Prepared): Promise<ResultStream> {
    const fan: Fanout = {
      start: (fetch, formats) => this.fanout(p, fetch, formats),
      collect: (streams) => collectRows(p, streams),
    }
    switch (p.plan.tier) {
      case 'router':
      case 'union': {
        const streams = await this.fanout(p, p.plan.fetch, this.clientFormats(p, 0))
        const offset = p.plan.tier === 'union' ? p.plan.offset : 0
        const limit = p.plan.tier === 'union' ? p.plan.limit : null
        return this.#stream(p, streams, new ArrivalMerge(streams), offset, limit)
      }
      case 'merge-sorted': {
        const formats = this.clientFormats(p, p.plan.keys.length)
        if (p.plan.timeBound) {
          const rounds = { start: (fetch: Fetch) => this.fanout(p, fetch, formats), collect: (streams: readonly ShardStream[]) => collectRows(p, streams) }
          const { streams, merge } = await runTimeBounded(p, p.plan, p.plan.timeBound, rounds)
          return this.#stream(p, streams, merge, p.plan.offset, p.plan.limit)
        }
        const streams = await this.fanout(p, p.plan.fetch, formats)
        return this.#stream(p, streams, new SortedMerge(streams, p.plan.keys, p.columns, p.plan.distinctOn), p.plan.offset, p.plan.limit)
      }
      case 'partial-aggregate':
        return this.#buffered(p, await runAggregate(p, p.plan, fan))
      case 'gather':
        return this.#buffered(p, await runGather(p, p.plan, fan, this.opts.discovery.current()))
    }
  }

  #buffered(p: Prepared, local: LocalResult): ResultStream {
    const rows = local.result
    const out = new BufferedResult(p.rowDescription, rows.rows, `SELECT ${rows.rows.length}`, [...p.notices, ...rows.notices])
    return local.failure ? new RowsThenError(out, local.failure) : out
  }

  /** Merged rows with OFFSET and LIMIT applied, streamed (or collected first, for partial results). */
  async #stream(p: Prepared, streams: ShardStream[], source: MergedRows, offset: number, limit: number | null): Promise<ResultStream> {
    if (p.partial) return partialRows(p, streams, source, offset, limit)
    return limitedRows(p.rowDescription, p.notices, streams, source, offset, limit)
  }
}
