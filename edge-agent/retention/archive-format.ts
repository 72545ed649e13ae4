/**
 * The archive of one day partition: `<table>-<day>.csv.gz`, PostgreSQL CSV with a header line
 * (NULL is an unquoted empty field, an empty string is ""), gzip-compressed, so `zcat`, a
 * spreadsheet or `\copy alerts FROM PROGRAM 'zcat …' CSV HEADER` read it; and beside it
 * `<table>-<day>.manifest.json`, saying what it holds and its SHA-256.
 */
import type { EventTable } from '../../schema/index.js'

export const ARCHIVE_FORMAT = 'fedgres-archive'

export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT
  readonly version: 1
  readonly edge_id: string
  readonly table: EventTable
  /** The UTC day the partition held, YYYY-MM-DD. */
  readonly day: string
  readonly rows: number
  /** Columns in file order (the header line). */
  readonly columns: readonly string[]
  readonly schema_version: number
  /** The archive's file name, relative to the manifest. */
  readonly file: string
  readonly bytes: number
  readonly sha256: string
  readonly compression: 'gzip'
  readonly created_at: string
}

export const archiveBaseName = (table: EventTable, day: string) => `${table}-${day}`
export const manifestNameFor = (archiveFile: string) => archiveFile.replace(/\.csv\.gz$/, '.manifest.json')

export function parseManifest(text: string, where: string): ArchiveManifest {
  let m: Partial<ArchiveManifest>
  try {
    m = JSON.parse(text) as Partial<ArchiveManifest>
  } catch (e) {
    throw new Error(`${where}: not JSON: ${(e as Error).message}`)
  }
  if (m.format !== ARCHIVE_FORMAT || m.version !== 1) throw new Error(`${where}: not a ${ARCHIVE_FORMAT} v1 manifest`)
  if (m.table !== 'alerts' && m.table !== 'logs') throw new Error(`${where}: table must be alerts or logs`)
  if (!Array.isArray(m.columns) || typeof m.sha256 !== 'string' || typeof m.rows !== 'number' || typeof m.file !== 'string') {
    throw new Error(`${where}: columns, rows, file and sha256 are required`)
  }
  return m as ArchiveManifest
}

/**
 * Splits PostgreSQL CSV text into records: `undefined` for NULL (an unquoted empty field), else the
 * field's text. Yields complete records only; `rest` returns the unfinished tail.
 */
export class CsvRecords {
  #buf = ''

  push(text: string): (string | undefined)[][] {
    this.#buf += text
    const out: (string | undefined)[][] = []
    let pos = 0
    let record: (string | undefined)[] = []
    let start = 0
    const s = this.#buf
    while (pos <= s.length) {
      if (pos === s.length) break
      if (s[pos] === '"') {
        // A quoted field: "" inside is one quote; it may hold commas and newlines.
        let value = ''
        let i = pos + 1
        for (;;) {
          const q = s.indexOf('"', i)
          if (q < 0 || q + 1 >= s.length) {
            this.#buf = s.slice(start)
            return out // incomplete
          }
          value += s.slice(i, q)
          if (s[q + 1] === '"') {
            value += '"'
            i = q + 2
            continue
          }
          pos = q + 1
          break
        }
        record.push(value)
      } else {
        let end = pos
        while (end < s.length && s[end] !== ',' && s[end] !== '\n') end++
        if (end === s.length) break // incomplete
        const raw = s.slice(pos, end)
        record.push(raw === '' ? undefined : raw)
        pos = end
      }
      if (s[pos] === ',') {
        pos++
        if (pos === s.length) break
        continue
      }
      if (s[pos] === '\n') {
        out.push(record)
        record = []
        pos++
        start = pos
        continue
      }
      break // incomplete (end of buffer after a quoted field)
    }
    this.#buf = s.slice(start)
    return out
  }

  get rest(): string {
    return this.#buf
  }
}
