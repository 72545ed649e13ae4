/**
 * Which shard a data dir's rows belong to. Every stored row carries it (`edge_id` is the shard,
 * or the edge id without one), so a data dir must keep serving under it: started with another
 * `shard` (or `edge_id`), an edge would serve rows stamped with the old one as a shard of its
 * own (a replica's rows counted twice) or join a replica pair holding other rows (answers that
 * depend on which replica is asked). The first start records it (after checking the rows a data
 * dir made before records were kept already holds); later starts must match.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const FILE = 'identity.json'

export class DataDirIdentityError extends Error {
  constructor(readonly dir: string, readonly stored: string, readonly configured: string) {
    super(
      `data dir ${dir} holds the rows of shard '${stored}', but this config would store and serve them as '${configured}' ` +
        `(shard, or edge_id without one): set shard: ${stored} to keep serving them, or give the agent a new data_dir`,
    )
    this.name = 'DataDirIdentityError'
  }
}

/**
 * Checks `storedId` against the one recorded: 'match', or 'absent' for a data dir without a
 * record (new, or made before records were kept), which recordDataDirIdentity then writes once
 * the rows it holds, if any, are known to carry the same id.
 */
export function checkDataDirIdentity(dataDir: string, storedId: string): 'match' | 'absent' {
  const path = join(dataDir, FILE)
  if (!existsSync(path)) return 'absent'
  const recorded = (JSON.parse(readFileSync(path, 'utf8')) as { shard?: unknown }).shard
  if (typeof recorded !== 'string') throw new Error(`${path} is not a Fedgres data dir identity: no shard in it`)
  if (recorded !== storedId) throw new DataDirIdentityError(dataDir, recorded, storedId)
  return 'match'
}

/** Refuses when a stored row carries another id (`heldIds`: what the store's rows carry); else records `storedId`. */
export function recordDataDirIdentity(dataDir: string, storedId: string, heldIds: readonly string[]): void {
  const other = heldIds.find((id) => id !== storedId)
  if (other !== undefined) throw new DataDirIdentityError(dataDir, other, storedId)
  const path = join(dataDir, FILE)
  // Written whole or not at all: a crash here leaves no half file behind.
  writeFileSync(`${path}.tmp`, JSON.stringify({ shard: storedId, recordedAt: new Date().toISOString() }) + '\n')
  renameSync(`${path}.tmp`, path)
}

/** The ids a store's rows carry: one row of each table is enough, as every row of a data dir carries the same. */
export async function heldEdgeIds(store: { query<T>(sql: string): Promise<T[]> }): Promise<string[]> {
  const rows = await store.query<{ edge_id: string }>('(SELECT edge_id FROM public.logs LIMIT 1) UNION (SELECT edge_id FROM public.alerts LIMIT 1)')
  return rows.map((r) => r.edge_id)
}
