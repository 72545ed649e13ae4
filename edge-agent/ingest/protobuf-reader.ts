/**
 * Low-level reading of protobuf wire format, and the field numbers of feeder.Alert and
 * feeder.Log as kubearmor.proto declares them (they differ between the two messages).
 * @see https://protobuf.dev/programming-guides/encoding/
 */
import type { EventTable } from '../../schema/index.js'
import { utcMs, type EventTime } from './event-to-row.js'

export const FIELDS: Record<EventTable, Readonly<Record<string, number>>> = {
  alerts: {
    Timestamp: 1, UpdatedTime: 2, ClusterName: 3, HostName: 4, NamespaceName: 5, Owner: 31, PodName: 6, Labels: 29, ContainerID: 7,
    ContainerName: 8, ContainerImage: 24, HostPPID: 27, HostPID: 9, PPID: 10, PID: 11, UID: 12, ParentProcessName: 25, ProcessName: 26,
    PolicyName: 13, Severity: 14, Tags: 15, ATags: 30, Message: 16, Type: 17, Source: 18, Operation: 19, Resource: 20, Data: 21,
    EventData: 43, Enforcer: 28, Action: 22, Result: 23, Cwd: 32, TTY: 33, MaxAlertsPerSec: 34, DroppingAlertsInterval: 35,
    ExecEvent: 36, KubeArmorVersion: 37, NodeID: 38, ProcessHash: 39, ParentHash: 40, ResourceHash: 41, HashAlgo: 42, UserName: 44,
  },
  logs: {
    Timestamp: 1, UpdatedTime: 2, ClusterName: 3, HostName: 4, NamespaceName: 5, Owner: 24, PodName: 6, Labels: 23, ContainerID: 7,
    ContainerName: 8, ContainerImage: 19, ParentProcessName: 20, ProcessName: 21, HostPPID: 22, HostPID: 9, PPID: 10, PID: 11, UID: 12,
    Type: 13, Source: 14, Operation: 15, Resource: 16, Data: 17, EventData: 33, Result: 18, Cwd: 25, TTY: 26, ExecEvent: 27,
    NodeID: 28, ProcessHash: 29, ParentHash: 30, ResourceHash: 31, HashAlgo: 32, UserName: 34,
  },
}

export class Reader {
  pos: number
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start
  }

  /** A varint as a Number (exact below 2^53). */
  varint(): number {
    let result = 0
    let mult = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint')
      const b = this.buf[this.pos++]!
      result += (b & 0x7f) * mult
      if (b < 0x80) return result
      mult *= 128
    }
    throw new Error('varint too long')
  }

  /**
   * An int64 varint as its exact decimal text (negative values are ten bytes of two's complement;
   * read as a plain varint, Timestamp -5 became 18446744073709552000, which no bigint column
   * takes). Values up to 2^49, every real one, take the fast path.
   */
  int64Text(): string {
    const start = this.pos
    const v = this.varint()
    if (this.pos - start <= 7) return String(v)
    let big = 0n
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f)
    return BigInt.asIntN(64, big).toString()
  }

  /** A varint's low 32 bits as a signed int32: how Go's negative int32 values read back. */
  varint32(): number {
    let lo = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new Error('truncated varint')
      const b = this.buf[this.pos++]!
      if (shift < 32) lo |= (b & 0x7f) << shift
      if (b < 0x80) return lo | 0
    }
    throw new Error('varint too long')
  }

  /** Reads a length prefix; returns the end of the field (the cursor is at its start). */
  bytesEnd(): number {
    const len = this.varint()
    const end = this.pos + len
    if (end > this.end) throw new Error('truncated field')
    return end
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint()
    else if (wireType === 1) this.pos += 8
    else if (wireType === 2) this.pos = this.bytesEnd()
    else if (wireType === 5) this.pos += 4
    else throw new Error(`unsupported wire type ${wireType}`)
    if (this.pos > this.end) throw new Error('truncated field')
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * KubeArmor's UpdatedTime, `2006-01-02T15:04:05.000000Z`, read from bytes. Returns undefined for
 * anything but that exact form with a valid date, and the caller falls back to the general path.
 */
export function parseUpdatedTime(buf: Buffer, start: number, end: number): EventTime | undefined {
  if (end - start !== 27 || buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d || buf[start + 10] !== 0x54 || buf[start + 13] !== 0x3a || buf[start + 16] !== 0x3a || buf[start + 19] !== 0x2e || buf[start + 26] !== 0x5a) {
    return undefined
  }
  const num = (a: number, n: number) => {
    let v = 0
    for (let i = a; i < a + n; i++) {
      const d = buf[start + i]! - 0x30
      if (d < 0 || d > 9) return -1
      v = v * 10 + d
    }
    return v
  }
  const y = num(0, 4)
  const mo = num(5, 2)
  const d = num(8, 2)
  const h = num(11, 2)
  const mi = num(14, 2)
  const s = num(17, 2)
  const us = num(20, 6)
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! || h > 23 || mi > 59 || s > 59 || us < 0) return undefined
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return undefined
  const ms = utcMs(y, mo, d, h, mi, s)
  const text = buf.toString('latin1', start, end)
  return { text, micros: ms * 1000 + us, day: text.slice(0, 10) }
}
