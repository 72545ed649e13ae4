/**
 * Import of `karmor logs --json` output (one JSON object per line, PascalCase keys; gzip allowed),
 * and of retention archives (import-archive.ts).
 *
 * Every line is parsed and mapped first, into a staging spool. A malformed line stops the import
 * with its line number and nothing is stored, unless `skipBad` is set, in which case each bad line
 * is reported and the rest are stored. The staging spool is then committed in one transaction:
 * an import is stored whole or not at all.
 */
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'
import type { Readable } from 'node:stream'
import type { EventTable } from '../../schema/index.js'
import { SpoolWriter } from '../spool/spool-writer.js'
import { encodeRow, eventTime, tableOf, tagsOf, EventFieldError, type KubeArmorEvent } from './event-to-row.js'
import type { EventRules } from '../rules/event-rules.js'
import { isArchiveFile, stageArchive, type ObserveRow } from './import-archive.js'

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

export class ImportLineError extends Error {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`)
    this.name = 'ImportLineError'
  }
}

export interface ImportProgress {
  readonly file: string
  readonly lines: number
  readonly bytes: number
  readonly totalBytes: number
}

export interface StageOptions {
  readonly files: readonly string[]
  readonly stagingDir: string
  readonly edgeId: string
  readonly tags: readonly string[]
  readonly skipBad?: boolean
  readonly onProgress?: (p: ImportProgress) => void
  readonly onBadLine?: (e: ImportLineError) => void
  /** Tagging rules for events (archives keep the tags they were stored with). */
  readonly rules?: EventRules
  /** Every imported row, for the synopsis. */
  readonly onEvent?: ObserveRow
}

export interface StageResult {
  readonly rows: Record<EventTable, number>
  readonly bad: number
}

function validate(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object'
  const ev = value as Record<string, unknown>
  if (!('HostName' in ev) && !('ClusterName' in ev) && !('Type' in ev) && !('Operation' in ev)) {
    return 'not a KubeArmor event: it has none of HostName, ClusterName, Type, Operation'
  }
  return undefined
}

/** Parses and maps every line into the staging spool. Throws ImportLineError on a bad line (unless skipBad). */
export async function stageImport(opts: StageOptions): Promise<StageResult> {
  rmSync(opts.stagingDir, { recursive: true, force: true })
  mkdirSync(opts.stagingDir, { recursive: true })
  const rows = { alerts: 0, logs: 0 }
  let bad = 0
  const ctx = { edgeId: opts.edgeId, tags: opts.tags, rules: opts.rules }
  const spool = new SpoolWriter({ dir: opts.stagingDir, segmentBytes: 256 << 20, onFlush: () => {} })
  try {
    for (const file of opts.files) {
      if (isArchiveFile(file)) {
        const staged = await stageArchive(file, spool, opts.edgeId, opts.onEvent, (bytes, totalBytes) => opts.onProgress?.({ file, lines: 0, bytes, totalBytes }))
        rows[staged.table] += staged.rows
        continue
      }
      const totalBytes = statSync(file).size
      const raw = createReadStream(file)
      let bytes = 0
      raw.on('data', (chunk) => (bytes += (chunk as Buffer).length))
      const input: Readable = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw
      const lines = createInterface({ input, crlfDelay: Infinity })
      let n = 0
      let lastReport = 0
      for await (const text of lines) {
        n++
        if (text.trim() === '') continue
        try {
          let ev: unknown
          try {
            ev = JSON.parse(text)
          } catch (e) {
            throw new ImportLineError(file, n, `malformed JSON: ${(e as Error).message}`)
          }
          const invalid = validate(ev)
          if (invalid) throw new ImportLineError(file, n, invalid)
          const event = ev as KubeArmorEvent
          const table = tableOf(event)
          const time = eventTime(event, Date.now())
          let line: string
          let tags: readonly string[]
          try {
            tags = tagsOf(table, event, ctx)
            line = encodeRow(table, event, time, ctx, tags)
          } catch (e) {
            if (e instanceof EventFieldError) throw new ImportLineError(file, n, e.message)
            throw e
          }
          spool.append(table, line)
          opts.onEvent?.(table, str(event.ClusterName), str(event.HostName), str(event.NamespaceName), tags, time.micros)
          rows[table]++
        } catch (e) {
          if (!(e instanceof ImportLineError) || !opts.skipBad) throw e
          bad++
          opts.onBadLine?.(e)
        }
        if (opts.onProgress && n - lastReport >= 10_000) {
          lastReport = n
          opts.onProgress({ file, lines: n, bytes, totalBytes })
        }
      }
      opts.onProgress?.({ file, lines: n, bytes: totalBytes, totalBytes })
    }
  } catch (e) {
    spool.close()
    rmSync(opts.stagingDir, { recursive: true, force: true })
    throw e
  }
  spool.close()
  return { rows, bad }
}

export const stagingDirFor = (dataDir: string) => join(dataDir, `import-${process.pid}`)
