/**
 * The agent's retention: a RetentionRunner over `retention` of the config, run on a timer, whose
 * drops line up with ingest. A round marks the spool's end and notes the events observed from then
 * on; it narrows the synopsis only once everything spooled before the mark is committed.
 */
import type { Logger } from '../common/log.js'
import { errorMeta } from '../common/log.js'
import type { EdgeConfig } from './config.js'
import type { EdgeMetrics } from './metrics.js'
import type { SynopsisTracker } from './registry/synopsis-tracker.js'
import type { WriteAhead } from './registry/write-ahead.js'
import { RetentionRunner } from './retention/retention-runner.js'
import { comparePositions, type SpoolPosition } from './spool/spool-files.js'
import type { SpoolWriter } from './spool/spool-writer.js'
import type { EdgeStore } from './store/edge-store.js'

/** The agent's ingest path, as retention's hooks read it. */
export interface RetentionIngest {
  readonly spool: SpoolWriter
  readonly tracker: SynopsisTracker
  readonly writeAhead: WriteAhead
  /** How far the store has committed. */
  committed(): SpoolPosition
  /** Whether the agent is stopping. */
  stopped(): boolean
}

/** Starts the rounds (the first soon after start) when the config sets retention; `every` runs a timer the agent stops. */
export function startRetention(
  cfg: EdgeConfig, store: EdgeStore, metrics: EdgeMetrics, ingest: RetentionIngest, every: (ms: number, fn: () => void) => void, log: Logger,
): RetentionRunner | undefined {
  const r = cfg.retention
  if (!r) return undefined
  let mark: SpoolPosition = ingest.committed()
  let heldAtWindow = false
  const runner = new RetentionRunner(
    store,
    { maxAgeMs: r.max_age, maxBytes: r.max_bytes },
    r.archive?.dir,
    cfg.edge_id,
    {
      beginWindow: () => {
        ingest.spool.flush() // records observed so far get a spool position below the mark
        ingest.tracker.beginWindow()
        mark = ingest.spool.end
        // Records the spool holds unwritten (a failing disk) get positions past the mark.
        heldAtWindow = ingest.spool.heldRecords > 0
      },
      settled: async () => {
        if (heldAtWindow) return false // a drop goes ahead, without narrowing the synopsis
        const deadline = Date.now() + 30_000
        while (comparePositions(ingest.committed(), mark) < 0 && Date.now() < deadline && !ingest.stopped()) await new Promise((res) => setTimeout(res, 50))
        return comparePositions(ingest.committed(), mark) >= 0
      },
      dropped: (table, minTime, rows, narrow) => {
        if (narrow) ingest.tracker.narrowAfterDrop(table, minTime, rows)
      },
      publish: () => ingest.writeAhead.settle(),
    },
    log.child({ component: 'retention' }),
    { partitionsDropped: (reason, n) => metrics.partitionsDropped.inc({ reason }, n), archiveFailed: () => metrics.archiveFailures.inc() },
  )
  const round = () => void (ingest.stopped() ? undefined : runner.run().catch((e: unknown) => log.error('retention round failed', errorMeta(e))))
  every(r.check_every, round)
  setTimeout(round, Math.min(r.check_every, 60_000)).unref() // the first round soon after start
  return runner
}
