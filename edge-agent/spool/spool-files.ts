/**
 * The spool on disk: numbered segment files `<16-digit number>.spool` in one directory.
 * A record is one line: a table letter (`a` alerts, `l` logs) and the row as a COPY text line.
 * A position in the spool is (segment, byte offset); offsets are always at a line boundary.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync, ftruncateSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'

export interface SpoolPosition {
  readonly segment: number
  readonly offset: number
}

export const TABLE_LETTER = { alerts: 'a', logs: 'l' } as const

export const segmentPath = (dir: string, segment: number) => join(dir, `${String(segment).padStart(16, '0')}.spool`)

export function listSegments(dir: string): number[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /^\d{16}\.spool$/.test(f))
    .map((f) => Number(f.slice(0, 16)))
    .sort((a, b) => a - b)
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true })
}

export const comparePositions = (a: SpoolPosition, b: SpoolPosition) => a.segment - b.segment || a.offset - b.offset

/**
 * Cuts a torn last record (a write interrupted by a crash) off the newest segment, so the
 * spool ends at a line boundary. Returns the number of bytes removed.
 */
export function repairTail(dir: string): number {
  const segs = listSegments(dir)
  const last = segs[segs.length - 1]
  if (last === undefined) return 0
  const path = segmentPath(dir, last)
  const size = statSync(path).size
  if (size === 0) return 0
  const fd = openSync(path, 'r+')
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 20))
    let end = size
    // Scan backwards for the last newline; records are far shorter than the scan window.
    while (end > 0) {
      const start = Math.max(0, end - chunk.length)
      const n = readSync(fd, chunk, 0, end - start, start)
      const nl = chunk.subarray(0, n).lastIndexOf(10)
      if (nl >= 0) {
        const keep = start + nl + 1
        if (keep < size) ftruncateSync(fd, keep)
        return size - keep
      }
      end = start
    }
    ftruncateSync(fd, 0)
    return size
  } finally {
    closeSync(fd)
  }
}

/** Removes every segment older than `segment` (they are fully committed). */
export function removeSegmentsBefore(dir: string, segment: number): number {
  let removed = 0
  for (const s of listSegments(dir)) {
    if (s >= segment) break
    unlinkSync(segmentPath(dir, s))
    removed++
  }
  return removed
}
