/**
 * Which shard a data dir's rows belong to. Every stored row carries it (`edge_id` is the shard,
 * or the edge id without one), so a data dir must keep serving under it: started with another
 * `shard` (or `edge_id`), an edge would serve rows stamped with the old one as a shard of its
 * own (a replica's rows counted twice) or join a replica pair holding other rows (answers that
 * depend on which replica is asked). The first start records it; later starts must match.
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

/** Records `storedId` in a new data dir, or checks it against the one recorded. */
export function checkDataDirIdentity(dataDir: string, storedId: string): void {
  const path = join(dataDir, FILE)
  if (existsSync(path)) {
    const recorded = (JSON.parse(readFileSync(path, 'utf8')) as { shard?: unknown }).shard
    if (typeof recorded !== 'string') throw new Error(`${path} is not a Fedgres data dir identity: no shard in it`)
    if (recorded !== storedId) throw new DataDirIdentityError(dataDir, recorded, storedId)
    return
  }
  // Written whole or not at all: a crash here leaves no half file behind.
  writeFileSync(`${path}.tmp`, JSON.stringify({ shard: storedId, recordedAt: new Date().toISOString() }) + '\n')
  renameSync(`${path}.tmp`, path)
}
