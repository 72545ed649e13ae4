/**
 * The store worker: the only code that touches the edge's PGlite. It runs in a worker thread so
 * that COPY and queries never block the main thread's gRPC receive loop.
 *
 * All database work goes through one mutex: commit batches and gateway queries interleave at
 * transaction boundaries, never inside one.
 */
import { parentPort } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { kyselyOnPglite } from '../../common/kysely-pglite.js'
import { DiskFloor } from './disk-floor.js'
import { Mutex } from '../../common/mutex.js'
import { migrateToLatest } from '../../schema/index.js'
import { comparePositions } from '../spool/spool-files.js'
import { AnalyzeRunner } from './analyze-runner.js'
import { Checkpointer } from './checkpointer.js'
import { CommitPump } from './commit-pump.js'
import { Committer } from './committer.js'
import { GroupCommit } from './group-commit.js'
import { dropPartition, listPartitions } from './partitions.js'
import { dayPartitionName } from '../../schema/index.js'
import type { FromWorker, OpenRequest, OpenResult, ToWorker } from './worker-protocol.js'

const port = parentPort!
const mutex = new Mutex()
/** Ids of `serve` requests cancelled while they waited for the mutex. */
const cancelledServes = new Set<number>()
let db: PGlite | undefined
let committer: Committer | undefined
let checkpointer: Checkpointer | undefined
let checkpointTimer: NodeJS.Timeout | undefined
const rows = { alerts: 0, logs: 0 }
let analyzer: AnalyzeRunner | undefined
let closing = false
/** The store's disk floor (store.min_free), once the store is opened. */
let floor: DiskFloor | undefined
/** Set once PGlite failed in a way it does not recover from in-process: only a reopen helps. */
let poisoned: string | undefined

/** After a failure: is PGlite still sane? (After ENOSPC in CHECKPOINT it returns no rows for SELECT 1.) */
async function probe(): Promise<void> {
  if (!db || poisoned) return
  try {
    const r = await db.query<{ one: number }>('SELECT 1 AS one')
    if (r.rows.length !== 1 || r.rows[0]!.one !== 1) poisoned = 'PGlite returned a wrong answer to SELECT 1'
  } catch (e) {
    poisoned = `PGlite is unusable: ${errorOf(e).message}`
  }
  if (poisoned) post({ kind: 'fatal', error: { message: poisoned }, poisoned: true })
}

const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer)
const errorOf = (e: unknown) => (e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) })

/** The commit loop (commit-pump.ts), reading the worker's state as it is at each step. */
const commits = new CommitPump({
  mutex,
  rows,
  get committer() {
    return committer
  },
  get floor() {
    return floor
  },
  get poisoned() {
    return poisoned
  },
  get closing() {
    return closing
  },
  post,
  afterBatch: async () => {
    await checkpointDue()
    void analyzer?.due()
  },
  failed: async (e) => {
    post({ kind: 'fatal', error: errorOf(e) })
    await mutex.run(probe)
  },
})

async function open(req: OpenRequest): Promise<OpenResult> {
  const t0 = performance.now()
  floor = new DiskFloor(req.pgDataDir, req.minFreeBytes)
  // Crash recovery makes a WAL segment: with less room PGlite only says "Aborted()".
  const short = floor.shortfall('the store is not opened')
  if (short) throw Object.assign(new Error(short), { code: 'ENOSPC' })
  db = await PGlite.create(req.pgDataDir, {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${req.sharedBuffers}`],
  })
  const kdb = kyselyOnPglite(db)
  const schemaVersion = await migrateToLatest(kdb, 'edge')
  const state = await db.query<{ segment: string; offset: string; synopsis: unknown }>(
    `SELECT segment, "offset", synopsis FROM fedgres_internal.spool_state WHERE id = 1`,
  )
  const s = state.rows[0]!
  const committed = { segment: Number(s.segment), offset: Number(s.offset) }
  commits.target = committed
  commits.group = new GroupCommit(req.batchBytes, req.batchWaitMs, () => void commits.pump())
  committer = new Committer(db, req.spoolDir, req.batchBytes, committed)
  committer.onSegmentGone = (segment) => post({ kind: 'segmentGone', segment })
  await committer.loadPartitions()
  for (const t of ['alerts', 'logs'] as const) {
    const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM public.${t}`)
    rows[t] = Number(r.rows[0]!.n)
  }
  analyzer = new AnalyzeRunner(db, mutex, (relation, ms) => post({ kind: 'analyzed', relation, ms }))
  await analyzer.track(rows)
  const stats = analyzer.stats
  committer.onRows = (relation, table, n) => {
    stats.note(relation, n)
    stats.note(`public.${table}`, n, true)
  }
  void analyzer.due()
  checkpointer = new Checkpointer(db, req.checkpoint)
  // When ingest is idle no commit asks, so a timer does (for the time-based checkpoint).
  checkpointTimer = setInterval(() => void checkpointDue(), Math.min(req.checkpoint.intervalMs, 30_000))
  return { committed, rows: { ...rows }, synopsis: s.synopsis, schemaVersion, openMs: performance.now() - t0 }
}

/** Checkpoints if one is due (see checkpointer.ts: PGlite never does by itself). */
async function checkpointDue(): Promise<void> {
  try {
    await mutex.run(checkpointHeld)
  } catch (e) {
    const err = errorOf(e)
    post({ kind: 'fatal', error: { ...err, message: `checkpoint failed: ${err.message}` } })
    await mutex.run(probe)
  }
}

/** Checkpoints if one is due; the caller holds the mutex (an import checkpoints between its batches). */
async function checkpointHeld(): Promise<void> {
  if (poisoned || floor?.shortfall('')) return // a CHECKPOINT that fails for space breaks PGlite
  const done = db && checkpointer && !closing ? await checkpointer.runIfDue() : null
  if (done) post({ kind: 'checkpointed', ...done })
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.op === 'advance') {
    if (comparePositions(msg.to, commits.target) > 0) commits.target = msg.to
    if (msg.synopsis !== undefined) commits.pendingSynopsis = msg.synopsis
    commits.schedulePump()
    return
  }
  const { id } = msg
  try {
    if (poisoned && msg.op !== 'close' && msg.op !== 'cancelServe') throw Object.assign(new Error(`the edge's store must be reopened: ${poisoned}`), { code: '58030' })
    let value: unknown
    switch (msg.op) {
      case 'open':
        value = await open(msg)
        break
      case 'query':
        value = (await mutex.run(() => db!.query(msg.sql, msg.params as unknown[] | undefined))).rows
        break
      case 'protocol':
        await mutex.run(() =>
          db!.execProtocolRawStream(msg.bytes, {
            onRawData: (data) => {
              const copy = data.slice()
              post({ kind: 'chunk', id, data: copy }, [copy.buffer as ArrayBuffer])
            },
          }),
        )
        break
      case 'serve':
        await mutex.run(async () => {
          if (cancelledServes.delete(id)) throw Object.assign(new Error('canceling statement due to user request'), { code: '57014' })
          await db!.exec(msg.setup ? `BEGIN TRANSACTION READ ONLY; ${msg.setup}` : 'BEGIN TRANSACTION READ ONLY')
          try {
            await db!.execProtocolRawStream(msg.bytes, {
              onRawData: (data) => {
                const copy = data.slice()
                post({ kind: 'chunk', id, data: copy }, [copy.buffer as ArrayBuffer])
              },
            })
          } finally {
            await db!.exec('ROLLBACK')
          }
        })
        break
      case 'cancelServe':
        cancelledServes.add(msg.target)
        break
      case 'publishLocal':
        await mutex.run(() =>
          db!.query(
            `INSERT INTO fedgres_internal.published_synopsis VALUES (1, $1::jsonb, now())
             ON CONFLICT (id) DO UPDATE SET synopsis = EXCLUDED.synopsis, published_at = EXCLUDED.published_at`,
            [msg.synopsis],
          ),
        )
        break
      case 'sources':
        await mutex.run(async () => {
          await db!.transaction(async (tx) => {
            await tx.exec('DELETE FROM fedgres_internal.sources')
            for (const r of msg.rows) {
              const keys = Object.keys(r)
              await tx.query(
                `INSERT INTO fedgres_internal.sources (${keys.join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
                keys.map((k) => r[k]),
              )
            }
          })
        })
        break
      case 'importSpool':
        value = await mutex.run(async () => {
          // An import keeps the same floor as ingestion, checked before every batch it commits.
          const floorThenCheckpoint = async () => {
            const short = floor?.shortfall('the import is rolled back')
            if (short) throw Object.assign(new Error(short), { code: 'ENOSPC' })
            await checkpointHeld()
          }
          await floorThenCheckpoint()
          const added = await committer!.commitAll(msg.dir, msg.synopsis, floorThenCheckpoint)
          rows.alerts += added.alerts
          rows.logs += added.logs
          return added
        })
        await checkpointDue()
        void analyzer?.due()
        break
      case 'partitions':
        value = await mutex.run(() => listPartitions(db!))
        break
      case 'copyOut': {
        // Times in UTC and ISO order, whatever a gateway session left set.
        const blob = await mutex.run(async () => {
          await db!.exec(`BEGIN READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'`)
          try {
            return (await db!.query(msg.sql, [])).blob
          } finally {
            await db!.exec('COMMIT')
          }
        })
        const bytes = new Uint8Array(blob ? await blob.arrayBuffer() : new ArrayBuffer(0))
        post({ kind: 'reply', id, ok: true, value: bytes }, [bytes.buffer as ArrayBuffer])
        return
      }
      case 'dropPartition':
        value = await mutex.run(async () => {
          const res = await dropPartition(db!, msg.table, msg.day, msg.expectRows)
          if (res.dropped) {
            const name = dayPartitionName(msg.table, msg.day)
            committer!.forgetPartition(name)
            analyzer!.stats.forget(name)
            analyzer!.stats.note(`public.${msg.table}`, res.tableRows - rows[msg.table], true)
            rows[msg.table] = res.tableRows
          }
          return res
        })
        break
      case 'drain':
        await commits.settle()
        value = committer?.committed
        break
      case 'close':
        await commits.settle()
        closing = true
        commits.stopRetry()
        clearInterval(checkpointTimer)
        commits.group?.stop()
        await analyzer?.stop()
        await mutex.run(async () => {
          await db?.close()
          db = undefined
        })
        break
    }
    post({ kind: 'reply', id, ok: true, value })
  } catch (e) {
    post({ kind: 'reply', id, ok: false, error: errorOf(e) })
  }
}

port.on('message', (msg: ToWorker) => void handle(msg))
