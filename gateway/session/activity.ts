/**
 * What `pg_stat_activity` shows of a gateway's client sessions, and what `pg_cancel_backend` and
 * `pg_terminate_backend` act on: each session's process ID (the one BackendKeyData gave the
 * client), role, application, client address, and what it runs since when. Kept per gateway
 * process, as a PostgreSQL server knows only its own backends.
 */
import type { PgError } from '../../common/errors/pg-error.js'

export type ActivityState = 'active' | 'idle' | 'idle in transaction' | 'idle in transaction (aborted)'

export interface Activity {
  readonly pid: number
  readonly user: string
  readonly database: string
  readonly clientAddr: string | null
  readonly clientPort: number | null
  /** Date.now() values, as PostgreSQL's timestamps of the same names. */
  readonly backendStart: number
  xactStart: number | null
  queryStart: number | null
  stateChange: number
  state: ActivityState
  query: string
  applicationName: string
}

/** How a signal reaches a session: its running statement cancelled, or its connection ended. */
export interface Signals {
  cancel(): void
  terminate(error: PgError): void
}

export class Activities {
  readonly #live = new Map<number, { readonly activity: Activity; readonly signals: Signals }>()

  add(activity: Activity, signals: Signals): void {
    this.#live.set(activity.pid, { activity, signals })
  }

  remove(pid: number): void {
    this.#live.delete(pid)
  }

  /** Every session, by process ID. */
  list(): Activity[] {
    return [...this.#live.values()].map((l) => l.activity).sort((a, b) => a.pid - b.pid)
  }

  get(pid: number): { readonly activity: Activity; readonly signals: Signals } | undefined {
    return this.#live.get(pid)
  }
}

/** The client's address and port from `host:port` (IPv6 hosts keep their colons). */
export function clientOf(remote: string): { addr: string | null; port: number | null } {
  const at = remote.lastIndexOf(':')
  const port = Number(remote.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port)) return { addr: null, port: null }
  const host = remote.slice(0, at)
  return { addr: host.startsWith('::ffff:') && host.includes('.') ? host.slice('::ffff:'.length) : host, port }
}

/** A session's activity record, idle from now. */
export function newActivity(pid: number, user: string, database: string, remote: string, applicationName: string): Activity {
  const now = Date.now()
  const { addr, port } = clientOf(remote)
  return { pid, user, database, clientAddr: addr, clientPort: port, backendStart: now, xactStart: null, queryStart: null, stateChange: now, state: 'idle', query: '', applicationName }
}

/** The statement `query` starts (in a transaction since `xactStart`, or its own). */
export function begin(a: Activity, query: string, inTransaction: boolean): void {
  const now = Date.now()
  a.query = query
  a.queryStart = now
  if (!inTransaction || a.xactStart === null) a.xactStart = now
  if (a.state !== 'active') a.stateChange = now
  a.state = 'active'
}

/** The session waits for its client again, in the transaction state `txn`. */
export function settle(a: Activity, txn: 'idle' | 'open' | 'failed'): void {
  const state: ActivityState = txn === 'idle' ? 'idle' : txn === 'open' ? 'idle in transaction' : 'idle in transaction (aborted)'
  if (txn === 'idle') a.xactStart = null
  if (a.state === state) return
  a.state = state
  a.stateChange = Date.now()
}
