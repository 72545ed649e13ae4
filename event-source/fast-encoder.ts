/**
 * Fast encoding for high event rates: a pool of realistic events is encoded once, and each event
 * sent is a pooled encoding followed by a few re-encoded fields (Timestamp, UpdatedTime and the
 * EventData `Seq` entry). Protobuf decoders take the last value of a repeated scalar field and
 * merge map entries, so the result decodes exactly like a freshly encoded event.
 * @see https://protobuf.dev/programming-guides/encoding/#last-one-wins
 */
import { formatUpdatedTime, type GeneratedTable } from './generator.js'

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
