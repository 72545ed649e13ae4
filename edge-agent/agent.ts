/**
 * The edge agent: KubeArmor sources → spool → store, with the synopsis published ahead of
 * every commit that widens it.
 *
 * Order of work for each event, all on the main thread and none of it waiting on storage:
 * map to a row, note it in the synopsis, append to the spool. The store worker commits from the
 * spool on its own; the main thread only tells it how far it may go.
 */
import { mkdirSync } from 'node:fs'
import type { Logger } from '../common/log.js'
import { errorMeta } from '../common/log.js'
import { SCHEMA_VERSION, type EventTable } from '../schema/index.js'
import type { Synopsis } from '../schema/synopsis.js'
import { alertMatchers, storedEdgeId, storeOpenOptions, type EdgeConfig } from './config.js'
import { startAlerting, type Alerting } from './alerting.js'
import { checkDataDirIdentity, heldEdgeIds, recordDataDirIdentity } from './data-dir-identity.js'
import { dirBytes } from './dir-bytes.js'
import { writeRowFromProtobuf } from './ingest/protobuf-row.js'
import { KubeArmorClient } from './ingest/kubearmor-client.js'
import { acquireLock } from './lock-file.js'
import { createEdgeMetrics, type EdgeMetrics } from './metrics.js'
import { LocalPublisher, type SynopsisPublisher } from './registry/publisher.js'
import { SynopsisTracker } from './registry/synopsis-tracker.js'
import { WriteAhead } from './registry/write-ahead.js'
import { removeSegmentsBefore, type SpoolPosition } from './spool/spool-files.js'
import { SpoolHealth } from './spool/spool-health.js'
import { SpoolWriter } from './spool/spool-writer.js'
import { EdgeStore } from './store/edge-store.js'
import { sourceRows, RateWindow } from './sources-view.js'
import { StoreHealth } from './store-health.js'
import { EventRules } from './rules/event-rules.js'
import type { RetentionRunner } from './retention/retention-runner.js'
import { startRetention } from './agent-retention.js'

export interface AgentCounters {
  received: number
  stored: number
  rejected: number
  /** Events in spool segments deleted under the agent before the store committed them. */
  lost: number
}

export class EdgeAgent {
  /** The store's last commit failed (and it retries): received events wait in the spool (/readyz says so). */
  get storeFailing(): boolean {
    return this.#storeHealth.failing
  }

  /** True while the spool cannot be written (a full disk): /readyz says so, and /metrics. */
  get spoolFailing(): boolean {
    return this.#spool?.failure !== undefined
  }

  readonly counters: AgentCounters = { received: 0, stored: 0, rejected: 0, lost: 0 }
  readonly #storeHealth: StoreHealth
  /** Resolves when the store failed in a way only reopening it mends (StoreHealth.lost): the CLI restarts the agent. */
  get storeLost(): Promise<Error> {
    return this.#storeHealth.lost
  }
  readonly metrics: EdgeMetrics
  readonly sources: KubeArmorClient[] = []
  readonly store: EdgeStore
  publisher: SynopsisPublisher
  readonly #cfg: EdgeConfig
  readonly #log: Logger
  readonly #spoolDir: string
  readonly #spoolHealth: SpoolHealth
  readonly #rates = new Map<KubeArmorClient, RateWindow>()
  /** Events per source and table that are in the spool file (counted as received). */
  readonly spooled = new Map<KubeArmorClient, Record<EventTable, number>>()
  readonly #unflushed = new Map<KubeArmorClient, Record<EventTable, number>>()
  #tracker!: SynopsisTracker
  #spool!: SpoolWriter
  #releaseLock: (() => void) | undefined
  #writeAhead!: WriteAhead
  #timers: NodeJS.Timeout[] = []
  #stopped = false
  readonly rules: EventRules
  #rowContext: { readonly edgeId: string; readonly tags: readonly string[]; readonly rules: EventRules; tagsLiteral?: string }
  #committed: SpoolPosition = { segment: 1, offset: 0 }
  retention: RetentionRunner | undefined
  #alerting: Alerting | undefined
  readonly #lastEvent = () => this.rules.lastEvent()

  private constructor(cfg: EdgeConfig, log: Logger, publisher: SynopsisPublisher) {
    this.#cfg = cfg
    this.#log = log.child({ component: 'agent' })
    this.#spoolDir = storeOpenOptions(cfg).spoolDir
    this.metrics = createEdgeMetrics(cfg.edge_id, () => this.sources, (s) => this.spooled.get(s) ?? { alerts: 0, logs: 0 })
    this.#spoolHealth = new SpoolHealth(this.metrics, this.#log, this.#spoolDir)
    this.store = new EdgeStore()
    this.#storeHealth = new StoreHealth(this.store, this.metrics, this.#log, (rows) => (this.counters.rejected += rows))
    this.publisher = publisher
    this.rules = new EventRules(cfg.node_tags, cfg.tagging.rules, alertMatchers(cfg.alerts?.rules ?? []))
    // Replicas of a shard store identical rows, so any of them gives the same answer.
    this.#rowContext = { edgeId: storedEdgeId(cfg), tags: cfg.node_tags, rules: this.rules }
  }

  /** Locks the data dir, opens the store (committing whatever the spool still holds), then connects the sources. */
  /** `lock` is the data dir's lock when the caller took it already (it is released on stop). */
  static async start(cfg: EdgeConfig, log: Logger, publisher: SynopsisPublisher = new LocalPublisher(), lock?: () => void): Promise<EdgeAgent> {
    mkdirSync(cfg.data_dir, { recursive: true })
    const release = lock ?? acquireLock(cfg.data_dir)
    let identity: 'match' | 'absent'
    try {
      identity = checkDataDirIdentity(cfg.data_dir, storedEdgeId(cfg))
    } catch (e) {
      release()
      throw e
    }
    const agent = new EdgeAgent(cfg, log, publisher)
    agent.#releaseLock = release
    try {
      await agent.#open(identity)
    } catch (e) {
      await agent.store.close().catch(() => {})
      release()
      throw e
    }
    return agent
  }

  get config(): EdgeConfig {
    return this.#cfg
  }

  get synopsis(): Synopsis | undefined {
    return this.#writeAhead?.last
  }

  async #open(identity: 'match' | 'absent'): Promise<void> {
    const cfg = this.#cfg
    this.store.on('committed', (ev) => {
      this.counters.stored += ev.batchRows
      this.#spoolHealth.ledger?.committed(ev.position.segment, ev.batchRecords)
      this.#committed = ev.position
      this.#tracker.setRows(ev.rows)
      this.#countStored(ev.rows)
      this.metrics.spoolDepth.set(this.#spoolHealth.depth)
      if (ev.position.segment > 1) removeSegmentsBefore(this.#spoolDir, ev.position.segment)
    })
    const opened = await this.store.open(storeOpenOptions(cfg))
    if (identity === 'absent') recordDataDirIdentity(cfg.data_dir, storedEdgeId(cfg), await heldEdgeIds(this.store))
    this.#storedByTable = { ...opened.rows }
    this.#tracker = new SynopsisTracker(
      { edgeId: cfg.edge_id, schemaVersion: SCHEMA_VERSION, valueCap: cfg.synopsis.value_cap, timeLeaseMicros: cfg.synopsis.time_lease * 1000 },
      (opened.synopsis as Synopsis | null) ?? undefined,
    )
    this.#tracker.setRows(opened.rows)
    this.#spool = new SpoolWriter({
      dir: this.#spoolDir, segmentBytes: cfg.store.segment_bytes, onFlush: (end, n) => this.#flushed(end, n),
      onWriteError: 'hold', onFailure: (e) => this.#spoolHealth.writeFailure(e), onSegmentGone: (segment) => this.#segmentDeleted(segment),
    })
    this.store.on('segmentGone', (segment) => {
      this.#spoolHealth.segmentSkipped(segment)
      this.counters.lost = this.#spoolHealth.lost
    })
    // Whatever a crash left in the spool is committed before anything new arrives.
    this.store.advance(this.#spool.end)
    const recovered = await this.store.drain()
    if (recovered) this.#committed = recovered
    // From here on every commit is of a record written since the start.
    this.#spoolHealth.startCounting()
    if (opened.created) this.#log.info('new data dir created', { ms: Math.round(opened.created.ms), initdbPeakRssMb: Math.round(opened.created.peakRssBytes / 2 ** 20) })
    this.#log.info('store opened', { openMs: Math.round(opened.openMs), rows: opened.rows, recoveredTo: recovered, schemaVersion: opened.schemaVersion })
    this.#writeAhead = new WriteAhead(this.#tracker, this.publisher, this.store, cfg.synopsis.publish_grace, this.metrics, this.#log, this.#spool.end)
    this.#writeAhead.start()

    // Before the sources: no event may pass unchecked.
    this.#alerting = startAlerting(cfg, this.store, this.metrics, { sources: this.sources, spoolDepth: () => this.#spoolHealth.depth }, this.#log)
    for (const s of cfg.sources) {
      const client = new KubeArmorClient(
        { address: s.address, tls: s.tls && { ca: s.tls.ca, cert: s.tls.cert, key: s.tls.key, serverName: s.tls.server_name }, healthIntervalSec: s.health_interval / 1000, backoffMaxMs: s.reconnect_max },
        (table, ev) => this.#onEvent(client, table, ev),
        this.#log,
      )
      this.sources.push(client)
      this.#rates.set(client, new RateWindow())
      this.spooled.set(client, { alerts: 0, logs: 0 })
      this.#unflushed.set(client, { alerts: 0, logs: 0 })
      client.start()
    }
    this.#every(2000, () => this.#saveSources())
    const measure = () => void dirBytes(cfg.data_dir).then((n) => this.metrics.storeBytes.set(n), () => undefined)
    measure()
    this.#every(15_000, measure)
    this.retention = startRetention(
      cfg, this.store, this.metrics,
      { spool: this.#spool, tracker: this.#tracker, writeAhead: this.#writeAhead, committed: () => this.#committed, stopped: () => this.#stopped },
      (ms, fn) => this.#every(ms, fn), this.#log,
    )
    // Row counts alone (for fedgres.edges) go out every synopsis.refresh, and only when they moved:
    // a Consul write wakes every gateway, a local publish costs nothing.
    this.#every(cfg.synopsis.refresh ?? (cfg.consul ? 300_000 : 30_000), () => this.#writeAhead.refreshCounts(this.#storedByTable))
  }

  #storedByTable: Record<EventTable, number> = { alerts: 0, logs: 0 }

  #countStored(rows: Record<EventTable, number>): void {
    for (const t of ['alerts', 'logs'] as const) {
      const delta = rows[t] - this.#storedByTable[t]
      if (delta > 0) {
        this.metrics.stored.inc({ table: t }, delta)
        this.metrics.lastCommit.set(Date.now() / 1000)
      }
    }
    this.#storedByTable = { ...rows }
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms)
    t.unref()
    this.#timers.push(t)
  }

  /** The spool writer found its segment deleted (and went on in a new one): the store is let past it. */
  #segmentDeleted(segment: number): void {
    this.#spoolHealth.segmentDeleted(segment)
    this.#writeAhead?.flushed(this.#spool.end) // undefined while the store opens: it commits up to the new end then
  }

  #onEvent(source: KubeArmorClient, table: EventTable, message: Buffer): void {
    if (!this.#spool.accepting) {
      this.#spoolHealth.droppedFull(this.#spool.heldRecords)
      return
    }
    const sink = this.#spool.beginRecord(table)
    try {
      const row = writeRowFromProtobuf(table, message, 0, message.length, this.#rowContext, Date.now(), sink)
      // Noted in the synopsis before the record can be flushed: the write-ahead check sees it.
      this.#tracker.observeValues(table, row.cluster, row.host, row.namespace, row.tags, row.micros)
      if (row.throttle) source.stats.throttleNotices++
      if (this.rules.hits.length > 0 && this.#alerting) {
        // The event's columns are read only if an alert fires (not for hits a rate rule counts).
        for (const rule of this.rules.hits) this.#alerting.engine.eventMatched(rule, this.#lastEvent)
      }
      this.#unflushed.get(source)![table]++
      this.#spool.commitRecord()
    } catch (e) {
      this.#spool.abortRecord()
      this.metrics.dropped.inc({ reason: 'malformed' })
      this.#log.warn('malformed event skipped', { source: source.address, table, bytes: message.length, ...errorMeta(e) })
    }
  }

  /** Records up to `end` are on disk. Commit them now, or after publishing a widened synopsis. */
  #flushed(end: SpoolPosition, records: number): void {
    this.counters.received += records
    this.#spoolHealth.ledger?.written(end.segment, records)
    for (const [source, n] of this.#unflushed) {
      const done = this.spooled.get(source)!
      done.alerts += n.alerts
      done.logs += n.logs
      n.alerts = n.logs = 0
    }
    this.metrics.spoolDepth.set(this.#spoolHealth.depth)
    this.#writeAhead.flushed(end)
  }

  #saveSources(): void {
    const rows = sourceRows(this.#cfg.edge_id, this.sources, this.#rates)
    for (const s of this.sources) this.metrics.connected.set({ source: s.address }, s.stats.state === 'connected' ? 1 : 0)
    this.store.saveSources(rows).catch((e) => this.#log.warn('could not save source counters', errorMeta(e)))
  }

  /** Stops the sources, commits everything spooled, and releases the data dir. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#writeAhead.stop()
    for (const t of this.#timers) clearInterval(t)
    for (const s of this.sources) s.stop()
    await this.retention?.idle()
    await this.#alerting?.stop()
    const lost = this.#spool.close()
    if (lost > 0) {
      this.metrics.dropped.inc({ reason: 'spool_write_failed' }, lost)
      this.#log.error('stopping while the spool cannot be written: events held in memory are lost', { lost })
    }
    try {
      await this.#writeAhead.finish(this.#spool.end)
      await this.store.saveSources(sourceRows(this.#cfg.edge_id, this.sources, this.#rates)).catch(() => {})
      const committed = await this.store.drain()
      this.#log.info('store drained', { committed, received: this.counters.received, stored: this.counters.stored })
      await this.store.close()
      await this.publisher.close()
    } finally {
      // stop() fails when the store does (a disk that filled up): the worker, with the database open
      // and its checkpoint timer running, must be gone before another agent may take the data dir.
      await this.store.terminate().catch(() => {})
      this.#releaseLock?.()
    }
  }
}
