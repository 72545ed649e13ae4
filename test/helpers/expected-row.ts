/**
 * The row an event must become, computed from the mapping rules as the design states them,
 * independently of the agent's encoder: NULL for an omitted or empty field, except PPID and UID,
 * which KubeArmor always prints; Severity as a number; ATags, else Tags split on commas;
 * time from UpdatedTime, else Timestamp.
 */
import type { ColumnSpec } from '../../schema/index.js'

const get = (ev: Record<string, unknown>, path: string): unknown => {
  const [a, b] = path.split('.')
  const v = ev[a!]
  return b === undefined ? v : v && typeof v === 'object' ? (v as Record<string, unknown>)[b] : undefined
}

export function expectedValue(c: ColumnSpec, ev: Record<string, unknown>, edgeId: string): unknown {
  switch (c.name) {
    case 'edge_id':
      return edgeId
    case 'tags':
      return null
    case 'time': {
      const u = ev.UpdatedTime
      if (typeof u === 'string') return u.replace(/\.(\d+)Z$/, (_, f: string) => `.${f.padEnd(6, '0')}Z`)
      if (ev.Timestamp !== undefined) return new Date(Number(ev.Timestamp) * 1000).toISOString().replace('.000Z', '.000000Z')
      return undefined // receive time: not predictable
    }
    case 'severity':
      return ev.Severity ? Number(ev.Severity) : null
    case 'policy_tags': {
      if (Array.isArray(ev.ATags) && ev.ATags.length) return ev.ATags
      return typeof ev.Tags === 'string' && ev.Tags ? ev.Tags.split(',') : null
    }
    case 'event_data':
      return ev.EventData && Object.keys(ev.EventData as object).length ? ev.EventData : null
  }
  const v = get(ev, c.proto!)
  if (c.type === 'integer') return c.proto === 'PPID' || c.proto === 'UID' ? Number(v ?? 0) : v ? Number(v) : null
  if (c.type === 'bigint') return v ? Number(v) : null
  return v === undefined || v === '' ? null : v
}

/** A stored row (from `row_to_json`), normalised for comparison: time as UTC with microseconds. */
export function normaliseStored(row: Record<string, unknown>): Record<string, unknown> {
  const t = row.time as string
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?\+00:00$/.exec(t)
  return { ...row, time: m ? `${m[1]}.${(m[2] ?? '').padEnd(6, '0')}Z` : t }
}
