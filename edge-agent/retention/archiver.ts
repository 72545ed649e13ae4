/**
 * Archives a day partition before retention drops it: exported an hour at a time (so commits and
 * gateway queries interleave and no day is held in memory whole), gzip-compressed into a temporary
 * file, fsynced, renamed, and then its manifest written the same way. Only after both are on disk
 * may the partition be dropped, and only if it still holds the rows the manifest counts.
 */
import { createHash } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { dayPartitionName, eventColumns, SCHEMA_VERSION } from '../../schema/index.js'
import type { EdgeStore } from '../store/edge-store.js'
import type { PartitionInfo } from '../store/worker-protocol.js'
import { ARCHIVE_FORMAT, archiveBaseName, type ArchiveManifest } from './archive-format.js'

const HOUR_MS = 3_600_000

export interface ArchivedPartition {
  readonly manifest: ArchiveManifest
  readonly file: string
  readonly manifestFile: string
}

function writeDurably(path: string, chunks: Iterable<Uint8Array>): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    for (const c of chunks) for (let off = 0; off < c.length; ) off += writeSync(fd, c, off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

/**
 * `base`, or `base.2`, `base.3`, ...: the first that names no archive yet. A day can be archived
 * twice (late events for it recreate its partition after the first archive dropped it), and the
 * second archive was written over the first, whose rows then existed nowhere.
 */
function unusedBase(dir: string, base: string): string {
  const taken = (b: string) => existsSync(join(dir, `${b}.csv.gz`)) || existsSync(join(dir, `${b}.manifest.json`))
  let name = base
  for (let n = 2; taken(name); n++) name = `${base}.${n}`
  return name
}

/** Writes `<dir>/<table>-<day>.csv.gz` (or `<table>-<day>.<n>.csv.gz` after the first) and its manifest; returns the manifest. */
export async function archivePartition(store: EdgeStore, part: PartitionInfo, dir: string, edgeId: string, now = new Date()): Promise<ArchivedPartition> {
  mkdirSync(dir, { recursive: true })
  const name = dayPartitionName(part.table, part.day)
  const columns = eventColumns[part.table].map((c) => c.name)
  // Counted first: the drop later checks this count, so rows that arrive meanwhile keep the day.
  const rows = Number(((await store.query(`SELECT count(*) AS n FROM ${name}`)) as { n: string }[])[0]!.n)
  const base = unusedBase(dir, archiveBaseName(part.table, part.day))
  const file = join(dir, `${base}.csv.gz`)
  const hash = createHash('sha256')
  let bytes = 0
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    const dayStart = Date.parse(`${part.day}T00:00:00Z`)
    for (let h = 0; h < 24; h++) {
      const lo = new Date(dayStart + h * HOUR_MS).toISOString()
      const hi = new Date(dayStart + (h + 1) * HOUR_MS).toISOString()
      const csv = await store.copyOut(
        `COPY (SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM ${name} WHERE time >= '${lo}' AND time < '${hi}' ORDER BY time)` +
          ` TO '/dev/blob' WITH (FORMAT csv, HEADER ${h === 0 ? 'true' : 'false'})`,
      )
      if (csv.length === 0) continue
      // Each hour is one gzip member; gzip readers read concatenated members as one stream.
      const gz = gzipSync(csv, { level: 6 })
      hash.update(gz)
      bytes += gz.length
      for (let off = 0; off < gz.length; ) off += writeSync(fd, gz, off)
    }
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw e
  }
  closeSync(fd)
  renameSync(tmp, file)
  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    version: 1,
    edge_id: edgeId,
    table: part.table,
    day: part.day,
    rows,
    columns,
    schema_version: SCHEMA_VERSION,
    file: `${base}.csv.gz`,
    bytes,
    sha256: hash.digest('hex'),
    compression: 'gzip',
    created_at: now.toISOString(),
  }
  const manifestFile = join(dir, `${base}.manifest.json`)
  writeDurably(manifestFile, [Buffer.from(JSON.stringify(manifest, null, 2) + '\n')])
  const dirFd = openSync(dir, 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
  return { manifest, file, manifestFile }
}
