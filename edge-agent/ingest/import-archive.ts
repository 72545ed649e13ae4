/**
 * Import of a retention archive (`<table>-<day>.csv.gz` with its manifest) into any edge: the
 * checksum is verified first, then every row is staged as stored before the drop, except
 * `edge_id`, which becomes the importing edge's (the edge that now holds the row).
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { createGunzip } from 'node:zlib'
import { eventColumns, type EventTable } from '../../schema/index.js'
import { CsvRecords, manifestNameFor, parseManifest, type ArchiveManifest } from '../retention/archive-format.js'
import type { SpoolWriter } from '../spool/spool-writer.js'
import { COPY_NULL, copyEscape } from '../store/copy-text.js'
import { parseArrayLiteral } from '../../common/text-array.js'

export const isArchiveFile = (file: string) => file.endsWith('.csv.gz') || file.endsWith('.manifest.json')

export type ObserveRow = (table: EventTable, cluster: string | null, host: string | null, namespace: string | null, tags: readonly string[], micros: number) => void

export class ArchiveError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'ArchiveError'
  }
}

/** Reads the manifest beside an archive (given either file). */
export function readArchiveManifest(file: string): { manifest: ArchiveManifest; dataFile: string } {
  const manifestFile = file.endsWith('.manifest.json') ? file : manifestNameFor(file)
  if (!existsSync(manifestFile)) throw new ArchiveError(file, `no manifest ${basename(manifestFile)} beside it`)
  const manifest = parseManifest(readFileSync(manifestFile, 'utf8'), manifestFile)
  return { manifest, dataFile: join(dirname(manifestFile), manifest.file) }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

const TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:Z|\+00(?::?00)?)$/

/** Microseconds since the epoch of a UTC timestamptz as the archive writes it. */
function micros(text: string, where: string): number {
  const m = TIME.exec(text)
  if (!m) throw new ArchiveError(where, `time '${text}' is not a UTC timestamp`)
  return Date.parse(`${m[1]}T${m[2]}Z`) * 1000 + Number((m[3] ?? '').padEnd(6, '0'))
}

/** The tags of an archived row (a text[] as PostgreSQL prints it). */
function tagsOf(text: string, where: string): string[] {
  const tags = parseArrayLiteral(text)
  if (!tags) throw new ArchiveError(where, `tags '${text}' is not a text[] value`)
  return tags.filter((t): t is string => t !== null)
}

/** Stages one archive's rows into `spool`; returns the rows staged. */
export async function stageArchive(file: string, spool: SpoolWriter, edgeId: string, observe?: ObserveRow, onBytes?: (bytes: number, total: number) => void): Promise<{ table: EventTable; rows: number }> {
  const { manifest, dataFile } = readArchiveManifest(file)
  if (!existsSync(dataFile)) throw new ArchiveError(file, `the archive ${manifest.file} named by the manifest is missing`)
  const sum = await sha256Of(dataFile)
  if (sum !== manifest.sha256) throw new ArchiveError(dataFile, `checksum mismatch: the manifest says ${manifest.sha256}, the file is ${sum}; not imported`)
  const table = manifest.table
  const cols = eventColumns[table]
  const total = statSync(dataFile).size
  let read = 0
  const csv = new CsvRecords()
  let header: Map<string, number> | undefined
  let rows = 0
  const at = (name: string) => cols.findIndex((c) => c.name === name)
  const [timeCol, clusterCol, hostCol, nsCol, tagsCol] = ['time', 'cluster_name', 'host_name', 'namespace_name', 'tags'].map(at) as [number, number, number, number, number]
  const raw = createReadStream(dataFile)
  raw.on('data', (c) => onBytes?.((read += (c as Buffer).length), total))
  const input = raw.pipe(createGunzip())
  input.setEncoding('utf8')
  for await (const text of input) {
    for (const record of csv.push(text as string)) {
      if (!header) {
        header = new Map(record.map((name, i) => [name ?? '', i]))
        for (const c of ['time', 'edge_id']) if (!header.has(c)) throw new ArchiveError(dataFile, `the header has no ${c} column`)
        continue
      }
      const values = cols.map((c) => (c.name === 'edge_id' ? edgeId : header!.has(c.name) ? record[header!.get(c.name)!] : undefined))
      spool.append(table, values.map((v) => (v === undefined ? COPY_NULL : copyEscape(v))).join('\t') + '\n')
      const tags = values[tagsCol]
      observe?.(table, values[clusterCol] ?? null, values[hostCol] ?? null, values[nsCol] ?? null, tags === undefined ? [] : tagsOf(tags, dataFile), micros(values[timeCol] ?? '', dataFile))
      rows++
    }
  }
  if (csv.rest !== '') throw new ArchiveError(dataFile, 'the CSV ends inside a record; the archive is truncated')
  if (rows !== manifest.rows) throw new ArchiveError(dataFile, `holds ${rows} rows, the manifest says ${manifest.rows}; not imported`)
  return { table, rows }
}
