/**
 * Which day partitions retention drops: every day that ended more than `max_age` ago, then the
 * oldest days while the stored events take more than `max_bytes`. The newest day is never
 * dropped for size: a node that cannot hold one day of events needs a larger budget, and is told
 * so. Both tables' partitions of a day go together. Pure: the caller lists, archives and drops.
 */
import type { PartitionInfo } from '../store/worker-protocol.js'

export interface RetentionLimits {
  /** Drop days that ended longer ago than this, ms. */
  readonly maxAgeMs?: number
  /** Keep the stored events' tables and indexes under this many bytes. */
  readonly maxBytes?: number
}

export interface RetentionDecision {
  readonly drop: readonly { readonly part: PartitionInfo; readonly reason: 'age' | 'size' }[]
  /** Bytes kept after the drops. */
  readonly keptBytes: number
  /** Set when the newest day alone exceeds max_bytes. */
  readonly overBudget: boolean
}

const DAY_MS = 86_400_000
const dayEndMs = (day: string) => Date.parse(`${day}T00:00:00Z`) + DAY_MS

export function decideRetention(parts: readonly PartitionInfo[], limits: RetentionLimits, nowMs: number): RetentionDecision {
  const days = [...new Set(parts.map((p) => p.day))].sort()
  const drop: { part: PartitionInfo; reason: 'age' | 'size' }[] = []
  const dropDay = (day: string, reason: 'age' | 'size') => {
    for (const part of parts) if (part.day === day) drop.push({ part, reason })
  }
  let kept = days
  if (limits.maxAgeMs !== undefined) {
    const cutoff = nowMs - limits.maxAgeMs
    for (const day of days) if (dayEndMs(day) <= cutoff) dropDay(day, 'age')
    kept = days.filter((d) => dayEndMs(d) > cutoff)
  }
  const bytesOf = (day: string) => parts.filter((p) => p.day === day).reduce((s, p) => s + p.bytes, 0)
  let keptBytes = kept.reduce((s, d) => s + bytesOf(d), 0)
  let overBudget = false
  if (limits.maxBytes !== undefined) {
    // Today's day is never dropped for size, nor a later one: the events arriving now go there.
    // The latest day was the one kept, and one event dated in the future (2030-01-01) made it
    // that day, so today's events were dropped every round (7,228 of 8,416 in 14 s).
    const today = new Date(nowMs).toISOString().slice(0, 10)
    while (keptBytes > limits.maxBytes && kept.length > 1 && kept[0]! < today) {
      const oldest = kept[0]!
      dropDay(oldest, 'size')
      keptBytes -= bytesOf(oldest)
      kept = kept.slice(1)
    }
    overBudget = keptBytes > limits.maxBytes
  }
  return { drop, keptBytes, overBudget }
}
