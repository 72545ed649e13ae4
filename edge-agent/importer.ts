/**
 * `fedgres import`: loads `karmor logs --json` files (or archives) into an edge's store.
 * It takes the data dir's lock, so it runs while that edge's agent is stopped.
 */
import { mkdirSync, rmSync } from 'node:fs'
import type { Logger } from '../common/log.js'
import { SCHEMA_VERSION, type EventTable } from '../schema/index.js'
import type { Synopsis } from '../schema/synopsis.js'
import { storedEdgeId, storeOpenOptions, type EdgeConfig } from './config.js'
import { stageImport, stagingDirFor, type ImportLineError, type ImportProgress } from './ingest/import-file.js'
import { acquireLock } from './lock-file.js'
import { checkDataDirIdentity, heldEdgeIds, recordDataDirIdentity } from './data-dir-identity.js'
import { SynopsisTracker } from './registry/synopsis-tracker.js'
import { EdgeStore } from './store/edge-store.js'
import { EventRules } from './rules/event-rules.js'

export interface ImportOptions {
  readonly skipBad?: boolean
  readonly onProgress?: (p: ImportProgress) => void
  readonly onBadLine?: (e: ImportLineError) => void
}

export interface ImportResult {
  readonly rows: Record<EventTable, number>
  readonly bad: number
  readonly ms: number
}

export async function importFiles(cfg: EdgeConfig, files: readonly string[], opts: ImportOptions, log: Logger): Promise<ImportResult> {
  const t0 = performance.now()
  mkdirSync(cfg.data_dir, { recursive: true })
  const release = acquireLock(cfg.data_dir)
  const store = new EdgeStore()
  const staging = stagingDirFor(cfg.data_dir)
  try {
    const identity = checkDataDirIdentity(cfg.data_dir, storedEdgeId(cfg))
    const opened = await store.open(storeOpenOptions(cfg))
    if (identity === 'absent') recordDataDirIdentity(cfg.data_dir, storedEdgeId(cfg), await heldEdgeIds(store))
    // A previous agent's unfinished spool goes in first, so import order matches arrival order.
    store.advance({ segment: Number.MAX_SAFE_INTEGER, offset: 0 })
    await store.drain()
    const tracker = new SynopsisTracker(
      { edgeId: cfg.edge_id, schemaVersion: SCHEMA_VERSION, valueCap: cfg.synopsis.value_cap, timeLeaseMicros: cfg.synopsis.time_lease * 1000 },
      (opened.synopsis as Synopsis | null) ?? undefined,
    )
    const staged = await stageImport({
      files,
      stagingDir: staging,
      edgeId: storedEdgeId(cfg),
      tags: cfg.node_tags,
      skipBad: opts.skipBad,
      onProgress: opts.onProgress,
      onBadLine: opts.onBadLine,
      rules: new EventRules(cfg.node_tags, cfg.tagging.rules),
      onEvent: (table, cluster, host, namespace, tags, micros) => tracker.observeValues(table, cluster, host, namespace, tags, micros),
    })
    tracker.setRows({ alerts: opened.rows.alerts + staged.rows.alerts, logs: opened.rows.logs + staged.rows.logs })
    const rows = await store.importSpool(staging, tracker.snapshot())
    log.info('import committed', { files: files.length, rows, bad: staged.bad })
    return { rows, bad: staged.bad, ms: performance.now() - t0 }
  } finally {
    rmSync(staging, { recursive: true, force: true })
    await store.close().catch(() => {})
    release()
  }
}
