/** Messages between the edge agent's main thread and its store worker (PGlite lives in the worker). */
import type { SpoolPosition } from '../spool/spool-files.js'
import type { EventTable } from '../../schema/index.js'
import type { CheckpointDone, CheckpointPolicy } from './checkpointer.js'

export interface OpenRequest {
  readonly op: 'open'
  readonly pgDataDir: string
  readonly spoolDir: string
  readonly sharedBuffers: string
  readonly batchBytes: number
  /** Wait up to this long for a full batch before committing a partial one (0: never wait). */
  readonly batchWaitMs: number
  readonly checkpoint: CheckpointPolicy
  /** Free bytes the store's disk must keep (see store.min_free). */
  readonly minFreeBytes: number
}

export interface OpenResult {
  readonly committed: SpoolPosition
  readonly rows: Record<EventTable, number>
  readonly synopsis: unknown
  readonly schemaVersion: number
  readonly openMs: number
  /** Set when this open created the data dir (in a process of its own, see init-data-dir.ts). */
  readonly created?: DataDirCreated
}

export interface DataDirCreated {
  readonly ms: number
  /** The creating process's peak resident set size. */
  readonly peakRssBytes: number
}

export type Request =
  | OpenRequest
  | { readonly op: 'query'; readonly sql: string; readonly params?: readonly unknown[] }
  | { readonly op: 'protocol'; readonly bytes: Uint8Array }
  /** A gateway's messages (up to Sync), run after `setup` in a READ ONLY transaction that is then rolled back. */
  | { readonly op: 'serve'; readonly bytes: Uint8Array; readonly setup?: string }
  /** Drops a queued `serve` request that has not started. */
  | { readonly op: 'cancelServe'; readonly target: number }
  | { readonly op: 'publishLocal'; readonly synopsis: string }
  | { readonly op: 'sources'; readonly rows: readonly Record<string, unknown>[] }
  | { readonly op: 'importSpool'; readonly dir: string; readonly synopsis: unknown }
  /** The day partitions with their size on disk. */
  | { readonly op: 'partitions' }
  /** Runs one `COPY (…) TO '/dev/blob'` and returns the bytes. */
  | { readonly op: 'copyOut'; readonly sql: string }
  /** Drops a day partition if it still holds `expectRows` rows (null: drop regardless). */
  | { readonly op: 'dropPartition'; readonly table: EventTable; readonly day: string; readonly expectRows: number | null }
  | { readonly op: 'drain' }
  | { readonly op: 'close' }

/** Fire-and-forget: records up to `to` may be committed; `synopsis` is stored with the next commit. */
export interface AdvanceMessage {
  readonly op: 'advance'
  readonly to: SpoolPosition
  readonly synopsis?: unknown
}

export type ToWorker = (Request & { readonly id: number }) | AdvanceMessage

export interface CommittedEvent {
  readonly kind: 'committed'
  readonly position: SpoolPosition
  readonly rows: Record<EventTable, number>
  readonly batchRows: number
  /** The spool records the batch held: its rows stored and rejected. */
  readonly batchRecords: number
  readonly batchMs: number
}

export type FromWorker =
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: { message: string; stack?: string } }
  | { readonly kind: 'chunk'; readonly id: number; readonly data: Uint8Array }
  | CommittedEvent
  | { readonly kind: 'rejected'; readonly rows: number; readonly error: string }
  /** A spool segment was deleted before its records were all committed: the store moved on past it. */
  | { readonly kind: 'segmentGone'; readonly segment: number }
  /** Planner statistics were gathered for `relation` (ANALYZE, in `ms`). */
  | { readonly kind: 'analyzed'; readonly relation: string; readonly ms: number }
  | ({ readonly kind: 'checkpointed' } & CheckpointDone)
  | { readonly kind: 'fatal'; readonly error: { message: string; stack?: string }; readonly poisoned?: boolean }

export interface PartitionInfo {
  readonly table: EventTable
  /** YYYY-MM-DD (UTC). */
  readonly day: string
  readonly name: string
  readonly bytes: number
}

export interface DropResult {
  readonly dropped: boolean
  /** Rows in the partition when it was checked. */
  readonly rows: number
  /** The table's oldest event after the drop, µs since the epoch; null when it is empty. */
  readonly minTime: number | null
  readonly tableRows: number
}
