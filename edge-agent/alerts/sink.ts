/** Where alerts go: one interface over webhook, Slack and syslog, and how a failed send is classed. */
import type { FiredAlert } from './alert.js'

export interface AlertSink {
  readonly name: string
  readonly type: 'webhook' | 'slack' | 'syslog'
  /** Resolves once the alert is delivered; rejects with a DeliveryError otherwise. Never retries itself. */
  send(alert: FiredAlert): Promise<void>
  /** Drops open connections. */
  close(): void
}

/**
 * `transient`: the receiver is down, slow or overloaded (network errors, timeouts, HTTP 5xx, 408,
 * 429): the same alert is retried after a backoff.
 * `rejected`: the receiver answered and refused this alert (other HTTP statuses, mostly 4xx). It is
 * kept and retried too, since 401/403/404 usually mean a token or URL an operator will fix; but it
 * goes to the back of that sink's queue so it cannot hold up alerts the receiver would take.
 */
export type FailureClass = 'transient' | 'rejected'

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly failure: FailureClass,
    /** The receiver's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'DeliveryError'
  }
}

export const asDeliveryError = (e: unknown): DeliveryError =>
  e instanceof DeliveryError ? e : new DeliveryError(e instanceof Error ? e.message : String(e), 'transient', undefined, { cause: e })
