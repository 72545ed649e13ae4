/**
 * Maps one KubeArmor event (the object gRPC decodes, or one line of `karmor logs --json`; both use
 * the proto's PascalCase field names) to a row of `alerts` or `logs`, encoded as a COPY text line.
 *
 * KubeArmor omits empty fields (Go `omitempty`, and proto3 defaults on the wire), so an empty
 * string or a zero integer becomes NULL, except PPID and UID, which KubeArmor always prints.
 * Either source therefore gives the same row for the same event.
 */
import { alertColumns, logColumns, type ColumnSpec, type EventTable } from '../../schema/index.js'
import { COPY_NULL, copyEscape, jsonWithoutNul, textArrayLiteral } from '../store/copy-text.js'
import type { EventRules } from '../rules/event-rules.js'

export type KubeArmorEvent = Record<string, unknown>

const ALERT_TYPES = new Set(['MatchedPolicy', 'MatchedHostPolicy', 'MatchedNetworkPolicy', 'SystemEvent'])
const LOG_TYPES = new Set(['ContainerLog', 'HostLog'])
const ALERT_ONLY = ['PolicyName', 'Action', 'Enforcer', 'Severity', 'ATags', 'Tags', 'KubeArmorVersion', 'MaxAlertsPerSec']
/** KubeArmor's JSON prints these even when zero (its Makefile strips their omitempty). */
const ALWAYS_PRINTED = new Set(['PPID', 'UID'])

/** Which table an event belongs to, from its Type, else from alert-only fields. */
export function tableOf(ev: KubeArmorEvent): EventTable {
  const type = ev.Type
  if (typeof type === 'string') {
    if (ALERT_TYPES.has(type)) return 'alerts'
    if (LOG_TYPES.has(type)) return 'logs'
  }
  return ALERT_ONLY.some((k) => ev[k] !== undefined && ev[k] !== '') ? 'alerts' : 'logs'
}

/** A field whose JSON value has the wrong shape; `field` names it for the error message. */
export class EventFieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(`field ${field}: ${message}`)
    this.name = 'EventFieldError'
  }
}

const UPDATED_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/

export interface EventTime {
  /** ISO-8601 text PostgreSQL parses exactly (microseconds kept). */
  readonly text: string
  /** Microseconds since the Unix epoch, for the synopsis. */
  readonly micros: number
  /** YYYY-MM-DD (UTC): the day partition. */
  readonly day: string
}

/**
 * Milliseconds since 1970 of a UTC date and time. Date.UTC reads a year from 0 to 99 as 1900 to
 * 1999: an event of the year 50 was stored as 0050, but its time (and the synopsis's minTime)
 * was 1950's, and a query for times before 1900 pruned that edge.
 */
export function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s)
  return y >= 0 && y < 100 ? new Date(ms).setUTCFullYear(y) : ms
}

const YEAR_10000_MS = Date.UTC(10000, 0, 1)

/** `time`: UpdatedTime (microseconds) when it is well formed, else Timestamp (seconds), else `fallbackMs`. */
export function eventTime(ev: KubeArmorEvent, fallbackMs: number): EventTime {
  const u = ev.UpdatedTime
  if (typeof u === 'string') {
    const m = UPDATED_TIME.exec(u)
    if (m) {
      const secs = utcMs(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000
      if (Number.isFinite(secs) && new Date(secs * 1000).toISOString().slice(0, 19) === u.slice(0, 19)) {
        const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6)
        return { text: `${u.slice(0, 19)}.${frac}Z`, micros: secs * 1e6 + Number(frac), day: u.slice(0, 10) }
      }
    }
  }
  const ts = integerText(ev.Timestamp)
  const secs = ts === undefined ? NaN : Number(ts)
  // A Timestamp past the year 9999 is no time an event happened: it gets the time it was received,
  // as a missing one does. Beyond Date's range it dropped the event as malformed; past 9999 its
  // text ('+010000-...') sent the row to rejected_rows.
  const ms = Number.isFinite(secs) && secs > 0 && secs * 1000 < YEAR_10000_MS ? secs * 1000 : fallbackMs
  const iso = new Date(ms).toISOString()
  return { text: iso.replace(/\.(\d{3})Z$/, '.$1000Z'), micros: Math.round(ms * 1000), day: iso.slice(0, 10) }
}

type Extract = (ev: KubeArmorEvent) => string

function path(ev: KubeArmorEvent, proto: string): unknown {
  const dot = proto.indexOf('.')
  if (dot < 0) return ev[proto]
  const parent = ev[proto.slice(0, dot)]
  return parent !== null && typeof parent === 'object' ? (parent as Record<string, unknown>)[proto.slice(dot + 1)] : undefined
}

function textField(proto: string): Extract {
  return (ev) => {
    const v = path(ev, proto)
    if (v === undefined || v === null || v === '') return COPY_NULL
    if (typeof v !== 'string') throw new EventFieldError(proto, `expected a string, got ${JSON.stringify(v)}`)
    return copyEscape(v)
  }
}

function intField(proto: string): Extract {
  const keepZero = ALWAYS_PRINTED.has(proto)
  return (ev) => {
    const v = path(ev, proto)
    if (v === undefined || v === null || v === '') return keepZero ? '0' : COPY_NULL
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN
    if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
      throw new EventFieldError(proto, `expected a 32-bit integer, got ${JSON.stringify(v)}`)
    }
    return n === 0 && !keepZero ? COPY_NULL : String(n)
  }
}

/**
 * An int64 as decimal text: a JSON number, a decimal string (proto-loader, longs: String) or a
 * protobufjs Long (the agent's decoder); undefined when it is none of these.
 */
function integerText(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : undefined
  if (typeof v === 'string') return /^-?\d{1,19}$/.test(v) ? v : undefined
  if (v !== null && typeof v === 'object' && 'low' in v && 'high' in v) return String(v)
  return undefined
}

function bigintField(proto: string): Extract {
  return (ev) => {
    const v = path(ev, proto)
    if (v === undefined || v === null || v === '') return COPY_NULL
    const text = integerText(v)
    if (text === undefined) throw new EventFieldError(proto, `expected a 64-bit integer, got ${JSON.stringify(v)}`)
    return text === '0' ? COPY_NULL : text
  }
}

/** Severity is a string on the wire ("1".."10"); an unparsable value is kept out rather than guessed. */
const severity: Extract = (ev) => {
  const v = ev.Severity
  if (v === undefined || v === null || v === '') return COPY_NULL
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN
  if (!Number.isInteger(n) || Math.abs(n) > 2147483647) throw new EventFieldError('Severity', `expected a number, got ${JSON.stringify(v)}`)
  return String(n)
}

const policyTags: Extract = (ev) => {
  const atags = ev.ATags
  let tags: string[] = []
  if (Array.isArray(atags) && atags.length > 0) {
    if (!atags.every((t) => typeof t === 'string')) throw new EventFieldError('ATags', 'expected an array of strings')
    tags = atags as string[]
  } else if (typeof ev.Tags === 'string' && ev.Tags !== '') {
    tags = ev.Tags.split(',').map((t) => t.trim()).filter((t) => t !== '')
  } else if (ev.Tags !== undefined && ev.Tags !== '' && typeof ev.Tags !== 'string') {
    throw new EventFieldError('Tags', 'expected a string')
  }
  return tags.length === 0 ? COPY_NULL : copyEscape(textArrayLiteral(tags))
}

const eventData: Extract = (ev) => {
  const v = ev.EventData
  if (v === undefined || v === null) return COPY_NULL
  if (typeof v !== 'object' || Array.isArray(v)) throw new EventFieldError('EventData', 'expected an object of strings')
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length === 0) return COPY_NULL
  for (const [k, val] of entries) if (typeof val !== 'string') throw new EventFieldError(`EventData.${k}`, 'expected a string')
  return copyEscape(jsonWithoutNul(JSON.stringify(v)))
}

function extractorFor(c: ColumnSpec): Extract | 'time' | 'edge_id' | 'tags' {
  if (c.name === 'time' || c.name === 'edge_id' || c.name === 'tags') return c.name
  if (c.name === 'severity') return severity
  if (c.name === 'policy_tags') return policyTags
  if (c.name === 'event_data') return eventData
  const proto = c.proto!
  switch (c.type) {
    case 'integer':
      return intField(proto)
    case 'bigint':
      return bigintField(proto)
    case 'text':
      return textField(proto)
    default:
      throw new Error(`no extractor for ${c.name} (${c.type})`)
  }
}

const plans = {
  alerts: alertColumns.map(extractorFor),
  logs: logColumns.map(extractorFor),
} as const

export interface RowContext {
  readonly edgeId: string
  /** The node tags: the `tags` column of an event no rule matches (empty means NULL). */
  readonly tags: readonly string[]
  /** Tagging rules and alert matchers, evaluated on every event. */
  readonly rules?: EventRules
  /** textArrayLiteral(tags), computed once. */
  tagsLiteral?: string
}

/** Reverses copyEscape: the stored text of a COPY field, null for \N. */
function copyUnescape(field: string): string | null {
  if (field === COPY_NULL) return null
  return field.indexOf('\\') < 0 ? field : field.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c))
}

/** The tags an event gets: the node tags, plus those of matching rules (hits left in ctx.rules). */
export function tagsOf(table: EventTable, ev: KubeArmorEvent, ctx: RowContext): readonly string[] {
  if (!ctx.rules?.active(table)) return ctx.tags
  const plan = plans[table]
  return ctx.rules.evaluate(table, (i) => {
    const step = plan[i]!
    return typeof step === 'function' ? copyUnescape(step(ev)) : null
  })
}

/** Encodes an event as one COPY text line (with its trailing newline) for `table`. */
export function encodeRow(table: EventTable, ev: KubeArmorEvent, time: EventTime, ctx: RowContext, tags = tagsOf(table, ev, ctx)): string {
  const plan = plans[table]
  let line = ''
  for (let i = 0; i < plan.length; i++) {
    const step = plan[i]!
    const field =
      step === 'time' ? time.text : step === 'edge_id' ? copyEscape(ctx.edgeId) : step === 'tags' ? (tags.length ? copyEscape(textArrayLiteral(tags)) : COPY_NULL) : step(ev)
    line += i === 0 ? field : '\t' + field
  }
  return line + '\n'
}
