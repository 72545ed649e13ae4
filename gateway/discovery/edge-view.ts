/**
 * The gateway's view of the edge network: an immutable snapshot the planner prunes with and the
 * executor connects by. Discovery (Consul or a static file) produces a new snapshot on change.
 */
import type { Synopsis } from '../../schema/synopsis.js'

export type EdgeStatus = 'passing' | 'warning' | 'critical' | 'unknown'

export interface EdgeEndpoint {
  readonly edgeId: string
  /** Host and port of the edge's query endpoint (PostgreSQL wire protocol). */
  readonly host: string
  readonly port: number
  /** Edges sharing a shard hold the same events (replicas); one per shard is asked. */
  readonly shard: string
  readonly cluster: string | null
  /** Node tags the edge advertises. */
  readonly tags: readonly string[]
  readonly schemaVersion: number
  readonly status: EdgeStatus
  /** The edge's last published synopsis; null when none is known (the edge is never pruned then). */
  readonly synopsis: Synopsis | null
  /**
   * Date.now() at which the synopsis was last known to be current: while a healthy watch is
   * blocked on it, that is now. The planner prunes with a synopsis only while it is fresh.
   */
  readonly synopsisCurrentAt: number
  /** Connect with TLS (sslmode=require). */
  readonly tls: boolean
  /** Database name on the endpoint (default `fedgres`; any Postgres-wire edge can be federated). */
  readonly database?: string
}

export interface EdgeView {
  /** Increases with every change. */
  readonly version: number
  readonly edges: readonly EdgeEndpoint[]
  /** True while discovery cannot reach its source and serves the last good view. */
  readonly stale: boolean
  /** Date.now() of the snapshot. */
  readonly takenAt: number
}

export interface Discovery {
  /** The latest snapshot; never blocks. */
  current(): EdgeView
  /** Resolves once a first view is available (or after `timeoutMs` with whatever there is). */
  ready(timeoutMs?: number): Promise<EdgeView>
  onChange(listener: (view: EdgeView) => void): () => void
  close(): Promise<void>
}
