/** A fired alert: what the outbox stores, what every sink is sent, what onFired listeners get. */
import { randomUUID } from 'node:crypto'

export type AlertKind = 'event' | 'rate' | 'status'

export interface FiredAlert {
  readonly id: string
  readonly rule: string
  readonly severity?: string
  readonly kind: AlertKind
  /** When the rule fired, by the edge's clock (an event's own time is in details.time): ISO 8601 UTC, e.g. 2025-12-16T05:37:19.127Z. */
  readonly firedAt: string
  readonly edgeId: string
  readonly summary: string
  /**
   * event rules: the matching event's columns; rate rules: count, window and hit times (plus the
   * event that tipped it); status rules: the figures that crossed the threshold.
   */
  readonly details: Readonly<Record<string, unknown>>
}

export function createAlert(fields: Omit<FiredAlert, 'id' | 'firedAt'>, nowMs: number): FiredAlert {
  const alert: FiredAlert = { id: randomUUID(), firedAt: new Date(nowMs).toISOString(), ...fields }
  if (alert.severity === undefined) delete (alert as { severity?: string }).severity
  return alert
}

/**
 * JSON.stringify replacer for alert bodies: event columns may hold int8 values as bigint, which
 * JSON cannot carry. Safe integers become numbers, larger ones decimal strings.
 */
export function alertJsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  return value
}

export const alertToJson = (alert: FiredAlert): string => JSON.stringify(alert, alertJsonReplacer)
