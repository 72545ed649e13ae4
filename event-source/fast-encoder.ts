/**
 * Fast encoding for high event rates: a pool of realistic events is encoded once, without the
 * fields that change per event (Timestamp, UpdatedTime and the EventData `Seq` entry); each event
 * sent is a pooled encoding followed by those fields. Protobuf allows fields in any order and a
 * map's entries anywhere in the message, so the result decodes exactly like a freshly encoded
 * event, and, as KubeArmor's Go encoder writes them, every field and map key appears once.
 * @see https://protobuf.dev/programming-guides/encoding/#order
 */
import { formatUpdatedTime, type Event, type GeneratedTable } from './generator.js'

/** The event as the pool encodes it: without the fields `suffix` adds. */
export function withoutRestamped(ev: Event): Event {
  const { Timestamp: _t, UpdatedTime: _u, EventData, ...rest } = ev
  if (EventData === undefined) return rest
  const { Seq: _s, ...data } = EventData as Record<string, string>
  return { ...rest, EventData: data }
}

/** EventData's field number differs between the messages (see kubearmor.proto). */
const EVENT_DATA_FIELD: Record<GeneratedTable, number> = { alerts: 43, logs: 33 }

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
}

function lengthDelimited(out: number[], field: number, bytes: ArrayLike<number>): void {
  varint(out, (field << 3) | 2)
  varint(out, bytes.length)
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]!)
}

const ascii = (s: string) => Buffer.from(s, 'latin1')

/** The bytes to append to a pooled event to give it `seq` and the instant `micros`. */
export function suffix(table: GeneratedTable, seq: number, micros: number): Buffer {
  const out: number[] = []
  varint(out, 1 << 3) // Timestamp, varint
  varint(out, Math.floor(micros / 1e6))
  lengthDelimited(out, 2, ascii(formatUpdatedTime(micros)))
  const entry: number[] = []
  lengthDelimited(entry, 1, ascii('Seq'))
  lengthDelimited(entry, 2, ascii(String(seq)))
  lengthDelimited(out, EVENT_DATA_FIELD[table], entry)
  return Buffer.from(out)
}
