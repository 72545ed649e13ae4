/**
 * Shards that cannot answer a statement. Without fedgres.partial_results the statement fails
 * with 08006: before any edge is asked when the view knows no healthy edge of a shard, or with
 * the error of a shard whose edge was lost. With it, each such shard is a NOTICE ("results
 * exclude shard ...") and the client gets the other shards' rows; the NOTICEs come before the
 * first row, so a merged tier collects every shard's rows before it sends any.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { BackendEncoder } from '../../common/pgwire/index.js'
import type { Fetch } from '../plan/types.js'
import { BufferedResult } from '../session/result.js'
import type { Prepared } from './federated-executor.js'
import { ArrivalMerge, BufferedSource, nextRow, SortedMerge, type MergedRows } from './merge.js'
import { ShardStream } from './shard-stream.js'

/** 08006 before any edge is asked: the view knows no healthy edge of these shards. */
export class ShardsUnavailable extends PgError {
  constructor(
    missing: string,
    readonly edgeIds: readonly string[],
  ) {
    super(SqlState.ConnectionFailure, `no healthy edge for shard ${missing}`, { hint: 'SET fedgres.partial_results = on to get the rows of the other shards. fedgres.edges shows each edge\'s status; an edge removed for good (its rows gone) is taken out with `fedgres decommission`.' })
  }
}

/** Reports the fetch's shards that cannot answer (`fetch.unavailable`, not empty): 08006, or a NOTICE with partial results. */
export function excludeUnavailable(p: Prepared, fetch: Fetch): void {
  const missing = fetch.unavailable.map((u) => `${u.shard} (${u.edgeIds.join(', ')})`).join(', ')
  if (!p.partial) throw new ShardsUnavailable(missing, fetch.unavailable.flatMap((u) => u.edgeIds))
  notice(p, `results exclude shard ${missing}: no healthy edge`)
}

function notice(p: Prepared, message: string): void {
  p.notices.push(new BackendEncoder().noticeResponse({ severity: 'NOTICE', code: SqlState.Warning, message }).take())
}

/** Rows of every stream; a failed shard fails the statement, or becomes a NOTICE with partial results. */
export async function collectRows(p: Prepared, streams: readonly ShardStream[]): Promise<Buffer[][]> {
  const out: Buffer[][] = []
  for (const s of streams) {
    const rows: Buffer[] = []
    try {
      for (let r = await s.next(); r; r = await s.next()) rows.push(r)
    } catch (e) {
      if (p.partial && e instanceof PgError && e.code === SqlState.ConnectionFailure) {
        notice(p, `results exclude shard ${s.stats.shard}: ${e.message}`)
        continue
      }
      streams.forEach((x) => x.cancel())
      throw e
    }
    out.push(rows)
  }
  return out
}

/** Merged rows with OFFSET and LIMIT applied, for partial results: every shard's rows collected first. */
export async function partialRows(p: Prepared, streams: ShardStream[], source: MergedRows, offset: number, limit: number | null): Promise<BufferedResult> {
  // Partial results must list every missing shard before the first row: collect first.
  const rows: Buffer[] = []
  const ok = new Map<ShardStream, BufferedSource>()
  for (const s of streams) {
    const got: Buffer[] = []
    try {
      for (let r = await s.next(); r; r = await s.next()) got.push(r)
      ok.set(s, new BufferedSource(got))
    } catch (e) {
      if (!(e instanceof PgError && e.code === SqlState.ConnectionFailure)) {
        streams.forEach((x) => x.cancel())
        throw e
      }
      notice(p, `results exclude shard ${s.stats.shard}: ${e.message}`)
    }
  }
  // Each shard's stream gives way to its collected rows (a failed one to none). A merge may also
  // hold rows collected before these streams began: the time-bounded tier's first round.
  const merged =
    source instanceof SortedMerge
      ? new SortedMerge(source.streams.flatMap((s) => (s instanceof ShardStream ? (ok.has(s) ? [ok.get(s)!] : []) : [s])), source.keys, source.visibleColumns)
      : new ArrivalMerge([...ok.values()])
  let skipped = 0
  for (let r = await nextRow(merged); r && (limit === null || rows.length < limit); r = await nextRow(merged)) {
    if (skipped++ < offset) continue
    rows.push(r)
  }
  return new BufferedResult(p.rowDescription, rows, `SELECT ${rows.length}`, p.notices)
}
