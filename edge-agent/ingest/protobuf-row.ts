/**
 * Decodes a feeder.Alert or feeder.Log straight from its protobuf bytes into a COPY text row,
 * written into a byte sink: strings are copied byte for byte (escaped), never decoded into
 * JavaScript strings and encoded again. It applies exactly the mapping of event-to-row.ts (an
 * equivalence test holds the two together) at a fraction of the cost per event, so the gRPC
 * receive loop stays far ahead of KubeArmor's send rate.
 * @see https://protobuf.dev/programming-guides/encoding/
 */
import type { EventTable } from '../../schema/index.js'
import { textArrayLiteral } from '../store/copy-text.js'
import type { ByteSink } from '../spool/byte-sink.js'
import { EventFieldError, eventTime, type RowContext } from './event-to-row.js'
import { LAYOUTS, SCRATCH, type Scratch } from './protobuf-layout.js'
import { parseUpdatedTime, Reader } from './protobuf-reader.js'

const enum V {
  Null = 0,
  Bytes = 1, // a protobuf string field: bytes [start, end)
  Ascii = 2, // a computed value needing no escape
  Text = 3, // a computed value to escape
}

export interface DecodedRow {
  /** A KubeArmor AlertThreshold notice: alerts were dropped at the source. */
  readonly throttle: boolean
  readonly day: string
  readonly micros: number
  readonly cluster: string | null
  readonly host: string | null
  readonly namespace: string | null
  /** The event's `tags`: node tags and those of matching tagging rules. */
  readonly tags: readonly string[]
}

/** Rules return the same array for the same set of tags: its literal is made once. */
const literals = new WeakMap<readonly string[], string>()
function tagsLiteral(tags: readonly string[]): string {
  let lit = literals.get(tags)
  if (lit === undefined) literals.set(tags, (lit = textArrayLiteral(tags)))
  return lit
}

/** The event the rules read (one at a time: the decoder is not reentrant). */
const ruleInput: { S: Scratch; buf: Buffer } = { S: SCRATCH.logs, buf: Buffer.alloc(0) }
/** A column of the event being decoded, as the row will store it (null for NULL). */
function readScratch(c: number): string | null {
  const { S, buf } = ruleInput
  const k = S.kind[c]
  return k === V.Null ? null : k === V.Bytes ? buf.toString('utf8', S.start[c], S.end[c]) : S.str[c]!
}

/** Decodes a short string field, with a small cache: cluster, host and namespace values repeat. */
const stringCache = new Map<string, string>()
function cachedString(buf: Buffer, start: number, end: number): string | null {
  if (start === end) return null
  const key = buf.toString('latin1', start, end)
  let s = stringCache.get(key)
  if (s === undefined) {
    if (stringCache.size > 10_000) stringCache.clear()
    s = buf.toString('utf8', start, end)
    stringCache.set(key, s)
  }
  return s
}

/**
 * Decodes one message of `table` from buf[start, end) and appends its COPY row (with the
 * trailing newline) to `out`. `receivedMs` stamps events that carry no time.
 */
export function writeRowFromProtobuf(table: EventTable, buf: Buffer, start: number, end: number, ctx: RowContext, receivedMs: number, out: ByteSink): DecodedRow {
  const L = LAYOUTS[table]
  const S = SCRATCH[table]
  S.kind.fill(V.Null)
  S.map.length = 0
  S.atags.length = 0
  for (const c of L.zeroCols) {
    S.kind[c] = V.Ascii
    S.str[c] = '0'
  }
  let utStart = -1
  let utEnd = -1
  let timestamp: number | undefined
  let tagsStart = -1
  let tagsEnd = -1
  let cluster: string | null = null
  let host: string | null = null
  let namespace: string | null = null
  const r = new Reader(buf, start, end)
  while (r.pos < end) {
    const tag = r.varint()
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    const kind = L.kindOf[field]
    if (kind === undefined || kind === 'skip') {
      r.skip(wire)
      continue
    }
    const col = L.colOf[field]!
    if (wire === 0) {
      if (kind === 'int' || kind === 'int0') {
        const v = r.varint32()
        S.kind[col] = v === 0 && kind === 'int' ? V.Null : V.Ascii
        S.str[col] = String(v)
      } else if (kind === 'int64') {
        const text = r.int64Text()
        timestamp = Number(text)
        S.kind[col] = text === '0' ? V.Null : V.Ascii
        S.str[col] = text
      } else throw new EventFieldError(String(field), `unexpected varint for a ${kind} field`)
      continue
    }
    if (wire !== 2) {
      r.skip(wire)
      continue
    }
    const fend = r.bytesEnd()
    const fstart = r.pos
    switch (kind) {
      case 'text':
        S.kind[col] = fstart === fend ? V.Null : V.Bytes
        S.start[col] = fstart
        S.end[col] = fend
        if (field === 3) cluster = cachedString(buf, fstart, fend)
        else if (field === 4) host = cachedString(buf, fstart, fend)
        else if (field === 5) namespace = cachedString(buf, fstart, fend)
        break
      case 'time':
        utStart = fstart
        utEnd = fend
        S.kind[col] = fstart === fend ? V.Null : V.Bytes
        S.start[col] = fstart
        S.end[col] = fend
        break
      case 'severity': {
        if (fstart === fend) break
        const s = buf.toString('latin1', fstart, fend)
        const n = /^\s*-?\d+\s*$/.test(s) ? Number(s) : NaN
        if (!Number.isInteger(n) || Math.abs(n) > 2147483647) throw new EventFieldError('Severity', `expected a number, got ${JSON.stringify(buf.toString('utf8', fstart, fend))}`)
        S.kind[col] = V.Ascii
        S.str[col] = String(n)
        break
      }
      case 'tags':
        tagsStart = fstart
        tagsEnd = fend
        break
      case 'atags':
        S.atags.push(fstart, fend)
        break
      case 'eventdata': {
        let ks = fstart
        let ke = fstart
        let vs = fstart
        let ve = fstart
        while (r.pos < fend) {
          const t = r.varint()
          if ((t & 7) !== 2) r.skip(t & 7)
          else if (t >>> 3 === 1) (ke = r.bytesEnd()), (ks = r.pos), (r.pos = ke)
          else if (t >>> 3 === 2) (ve = r.bytesEnd()), (vs = r.pos), (r.pos = ve)
          else r.skip(2)
        }
        S.map.push(ks, ke, vs, ve)
        break
      }
      case 'owner':
      case 'exec': {
        const cols = kind === 'owner' ? L.ownerCols : L.execCols
        while (r.pos < fend) {
          const t = r.varint()
          const f = t >>> 3
          if ((t & 7) === 2 && f >= 1 && f <= cols.length) {
            const e = r.bytesEnd()
            const c = cols[f - 1]!
            S.kind[c] = r.pos === e ? V.Null : V.Bytes
            S.start[c] = r.pos
            S.end[c] = e
            r.pos = e
          } else r.skip(t & 7)
        }
        break
      }
    }
    r.pos = fend
  }

  // time: the UpdatedTime bytes when they are already canonical, else normalised.
  const canonical = utStart >= 0 ? parseUpdatedTime(buf, utStart, utEnd) : undefined
  const time = canonical ?? eventTime({ UpdatedTime: utStart >= 0 ? buf.toString('utf8', utStart, utEnd) : undefined, Timestamp: timestamp }, receivedMs)
  S.kind[L.timeCol] = V.Ascii
  S.str[L.timeCol] = time.text
  S.kind[L.edgeCol] = V.Text
  S.str[L.edgeCol] = ctx.edgeId
  let tags = ctx.tags
  if (ctx.rules?.active(table)) {
    ruleInput.S = S
    ruleInput.buf = buf
    tags = ctx.rules.evaluate(table, readScratch)
  }
  if (tags.length) {
    S.kind[L.tagsCol] = V.Text
    S.str[L.tagsCol] = tags === ctx.tags ? (ctx.tagsLiteral ??= textArrayLiteral(tags)) : tagsLiteral(tags)
  }
  if (S.atags.length > 0) {
    const items: string[] = []
    for (let i = 0; i < S.atags.length; i += 2) items.push(buf.toString('utf8', S.atags[i], S.atags[i + 1]))
    S.kind[L.policyTagsCol] = V.Text
    S.str[L.policyTagsCol] = textArrayLiteral(items)
  } else if (tagsStart >= 0) {
    const split = buf.toString('utf8', tagsStart, tagsEnd).split(',').map((t) => t.trim()).filter((t) => t !== '')
    if (split.length > 0) {
      S.kind[L.policyTagsCol] = V.Text
      S.str[L.policyTagsCol] = textArrayLiteral(split)
    }
  }
  const directMap = S.map.length > 0 && plainMap(buf, S.map)
  if (S.map.length > 0 && !directMap) {
    S.kind[L.eventDataCol] = V.Text
    S.str[L.eventDataCol] = eventDataJson(buf, S.map)
  }

  for (let c = 0; c < L.width; c++) {
    if (c > 0) out.byte(9)
    if (c === L.eventDataCol && directMap) {
      writeMapJson(buf, S.map, out)
      continue
    }
    switch (S.kind[c]) {
      case V.Null:
        out.byte(0x5c)
        out.byte(0x4e)
        break
      case V.Bytes:
        out.copyEscaped(buf, S.start[c]!, S.end[c]!)
        break
      case V.Ascii:
        out.ascii(S.str[c]!)
        break
      default:
        out.text(S.str[c]!)
    }
  }
  out.byte(10)
  const throttle = table === 'alerts' && isBytes(buf, S, L.typeCol, SYSTEM_EVENT) && isBytes(buf, S, L.operationCol, ALERT_THRESHOLD)
  return { throttle, day: time.day, micros: time.micros, cluster, host, namespace, tags }
}

const SYSTEM_EVENT = Buffer.from('SystemEvent')
const ALERT_THRESHOLD = Buffer.from('AlertThreshold')

function isBytes(buf: Buffer, S: Scratch, col: number, want: Buffer): boolean {
  return S.kind[col] === V.Bytes && S.end[col]! - S.start[col]! === want.length && buf.compare(want, 0, want.length, S.start[col], S.end[col]) === 0
}

/**
 * True when EventData can be written straight from its bytes and still equal JSON.stringify of
 * the decoded map: no key repeats and none is an array index (JSON.stringify puts those first).
 */
function plainMap(buf: Buffer, map: readonly number[]): boolean {
  for (let i = 0; i < map.length; i += 4) {
    const ks = map[i]!
    const ke = map[i + 1]!
    const first = buf[ks]
    if (first !== undefined && first >= 0x30 && first <= 0x39) return false
    for (let j = i + 4; j < map.length; j += 4) {
      if (map[j + 1]! - map[j]! === ke - ks && buf.compare(buf, map[j]!, map[j + 1]!, ks, ke) === 0) return false
    }
  }
  return true
}

function writeMapJson(buf: Buffer, map: readonly number[], out: ByteSink): void {
  out.byte(0x7b) // {
  for (let i = 0; i < map.length; i += 4) {
    if (i > 0) out.byte(0x2c) // ,
    out.byte(0x22)
    out.jsonEscaped(buf, map[i]!, map[i + 1]!)
    out.ascii('":"')
    out.jsonEscaped(buf, map[i + 2]!, map[i + 3]!)
    out.byte(0x22)
  }
  out.byte(0x7d) // }
}

/** EventData as JSON, built as JSON.stringify builds a map object: the last of repeated keys wins. */
function eventDataJson(buf: Buffer, map: readonly number[]): string {
  const obj = Object.create(null) as Record<string, string>
  for (let i = 0; i < map.length; i += 4) obj[buf.toString('utf8', map[i], map[i + 1])] = buf.toString('utf8', map[i + 2], map[i + 3])
  return JSON.stringify(obj)
}
