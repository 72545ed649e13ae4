/**
 * The edge's alerting, from a rule's hit to the sinks:
 *
 *   eventMatched(rule, event) ─┬─ event rule ──────────────┐
 *                              └─ rate rule: RateCondition ─┤
 *   StatusWatcher (polls) ────── status rule ───────────────┴─ RateLimiter ─ FiredAlert
 *     ─ outbox (fsync) ─ Dispatcher ─ webhook / slack / syslog, retried with backoff
 *     ─ onFired listeners (the caller records alerts in a table)
 *
 * The event matcher (edge-agent/rules) decides what matches; this engine is only told of hits.
 * eventMatched runs on the ingest path, so it does no I/O and never throws: it fires the alert
 * into memory, and the outbox writes it out on its own time before any sink sees it.
 */
import client from 'prom-client'
import { ConfigError } from '../../common/config.js'
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import { createAlert, type AlertKind, type FiredAlert } from './alert.js'
import type { AlertDeliveryConfig, AlertRuleConfig, SinkConfig } from './alert-config.js'
import { createAlertMetrics, type AlertMetrics } from './alert-metrics.js'
import { eventSummary, rateSummary } from './alert-summary.js'
import { createSink } from './create-sink.js'
import { Dispatcher } from './dispatcher.js'
import { Outbox, type OutboxEntry } from './outbox.js'
import { RateCondition } from './rate-condition.js'
import { RateLimiter } from './rate-limit.js'
import type { AlertSink } from './sink.js'
import { StatusWatcher, type DiskUsage, type StatusSnapshot } from './status-watcher.js'

export interface AlertEngineOptions {
  readonly edgeId: string
  /** The outbox's directory, e.g. `<data_dir>/alerts`. */
  readonly dir: string
  readonly rules: readonly AlertRuleConfig[]
  readonly sinks: Readonly<Record<string, SinkConfig>>
  readonly log: Logger
  /** The agent's registry (edge metrics); a private one when absent. */
  readonly registry?: client.Registry
  /** Clock for firedAt, rate windows and status durations (default Date.now). */
  readonly now?: () => number
  readonly delivery?: Partial<AlertDeliveryConfig>
  /** How often status rules look, in ms (default 5000). */
  readonly statusInterval?: number
  /** What status rules look at; needed when there are status rules. */
  readonly statusSnapshot?: () => StatusSnapshot
  /** Disk figures of the data dir (default: statfs). */
  readonly diskUsage?: (dir: string) => Promise<DiskUsage>
  /** Outbox lines before it is compacted (default 10,000). */
  readonly compactAfter?: number
}

export interface FiredRecord {
  /** Numbers every alert this engine fires, in order, gap-free within a run. */
  readonly seq: number
  readonly alert: FiredAlert
  /** The sinks it is being delivered to (the rule's). */
  readonly sinks: readonly string[]
}

interface Rule {
  readonly config: AlertRuleConfig
  readonly kind: AlertKind
  readonly limiter: RateLimiter | undefined
  readonly rate: RateCondition | undefined
  /** Alerts the rate limit suppressed, counted here and read by the metric at scrape time. */
  suppressed: number
}

/** Fired alerts kept for firedSince(). */
const RECENT_KEPT = 1000
const DROP_WARN_EVERY_MS = 60_000

export class AlertEngine {
  readonly registry: client.Registry
  readonly #opts: AlertEngineOptions
  readonly #log: Logger
  readonly #now: () => number
  readonly #rules: Rule[]
  readonly #byName = new Map<string, Rule>()
  readonly #outbox: Outbox
  readonly #dispatcher: Dispatcher
  readonly #metrics: AlertMetrics
  readonly #status: StatusWatcher | undefined
  readonly #listeners = new Set<(alert: FiredAlert, seq: number, sinks: readonly string[]) => void>()
  readonly #recent: FiredRecord[] = []
  readonly #ignored = new Set<string | number>()
  #state: 'new' | 'started' | 'stopped' = 'new'
  #dropped = 0
  #dropWarnedAt = Number.NEGATIVE_INFINITY

  /** Checks the rules against the sinks, opens the outbox (reading what a previous run left) and the sinks' TLS files. */
  constructor(opts: AlertEngineOptions) {
    this.#opts = opts
    this.#log = opts.log.child({ component: 'alerts' })
    this.#now = opts.now ?? Date.now
    this.#rules = opts.rules.map((config) => this.#compile(config))
    const statusRules = opts.rules.filter((r) => r.when.status).map((r) => ({ name: r.name, condition: r.when.status! }))
    if (statusRules.length > 0 && !opts.statusSnapshot) throw new ConfigError(`status rules (${statusRules.map((r) => r.name).join(', ')}) need the agent's status`)

    const sinks = new Map<string, AlertSink>(Object.entries(opts.sinks).map(([name, cfg]) => [name, createSink(name, cfg)]))
    this.#outbox = new Outbox({ dir: opts.dir, maxAlerts: opts.delivery?.max_queued ?? 10_000, compactAfter: opts.compactAfter, log: this.#log, onDrop: (e) => this.#droppedOldest(e) })
    this.#dispatcher = new Dispatcher({
      sinks,
      outbox: this.#outbox,
      backoff: { baseMs: opts.delivery?.backoff_base ?? 1000, capMs: opts.delivery?.backoff_cap ?? 300_000 },
      log: this.#log,
      onDelivered: (sink) => this.#metrics.delivered.inc({ sink }),
      onFailed: (sink, reason) => this.#metrics.failed.inc({ sink, reason }),
    })
    this.registry = opts.registry ?? new client.Registry()
    this.#metrics = createAlertMetrics(this.registry, () => this.#dispatcher.pending(), () => this.#rules.map((r) => [r.config.name, r.suppressed] as const))
    for (const r of opts.rules) this.#metrics.fired.inc({ rule: r.name }, 0)
    for (const name of sinks.keys()) this.#metrics.delivered.inc({ sink: name }, 0)
    if (opts.statusSnapshot && statusRules.length > 0) {
      this.#status = new StatusWatcher({
        rules: statusRules,
        snapshot: opts.statusSnapshot,
        onFire: (f) => this.#fire(this.#byName.get(f.rule)!, this.#now(), () => ({ summary: f.summary, details: f.details })),
        intervalMs: opts.statusInterval ?? 5000,
        log: this.#log,
        now: this.#now,
        diskUsage: opts.diskUsage,
      })
    }
    this.#requeueLeftovers(sinks)
  }

  /** Starts delivering (what a previous run left first) and polling status rules. */
  start(): void {
    if (this.#state !== 'new') return
    this.#state = 'started'
    this.#dispatcher.start()
    this.#status?.start()
  }

  /**
   * The event matcher accepted `event` for rule `rule` (its name, or its index in `rules`).
   * Cheap, never throws, never waits: an event rule fires (within its rate_limit); a rate rule
   * counts the hit and fires when its condition turns true.
   */
  /**
   * `event` may be a function returning it: it is then called only when an alert fires (not for
   * a hit a rate rule only counts, nor one the rate limit suppresses), and only during this call.
   */
  eventMatched(rule: string | number, event: Readonly<Record<string, unknown>> | (() => Readonly<Record<string, unknown>>)): void {
    try {
      const r = typeof rule === 'number' ? this.#rules[rule] : this.#byName.get(rule)
      if (!r || r.kind === 'status' || this.#state === 'stopped') return this.#ignore(rule, r)
      const now = this.#now()
      const ev = typeof event === 'function' ? event : () => event
      if (!r.rate) {
        return this.#fire(r, now, () => {
          const e = ev()
          return { summary: eventSummary(e), details: { ...e } }
        })
      }
      if (!r.rate.hit(now)) return
      const h = r.rate.lastHits
      this.#fire(r, now, () => ({
        summary: rateSummary(r.rate!.count, r.rate!.windowMs, h.hits, h.last - h.first),
        details: { count: r.rate!.count, window_ms: r.rate!.windowMs, hits: h.hits, first_hit_at: new Date(h.first).toISOString(), last_hit_at: new Date(h.last).toISOString(), event: { ...ev() } },
      }))
    } catch (e) {
      this.#log.error('alert not fired', { rule, ...errorMeta(e) })
    }
  }

  /**
   * Calls `cb` with every alert fired from now on, synchronously as it fires (on the ingest path:
   * keep it cheap). Returns a function that unsubscribes.
   */
  onFired(cb: (alert: FiredAlert, seq: number, sinks: readonly string[]) => void): () => void {
    this.#listeners.add(cb)
    return () => this.#listeners.delete(cb)
  }

  /** Alerts fired after `seq` that are still in memory (the last 1000), oldest first. */
  firedSince(seq: number): FiredRecord[] {
    const i = this.#recent.findIndex((r) => r.seq > seq)
    return i < 0 ? [] : this.#recent.slice(i)
  }

  /** Deliveries waiting, over all sinks. */
  get pendingDeliveries(): number {
    let n = 0
    for (const v of this.#dispatcher.pending().values()) n += v
    return n
  }

  /** Stops polling and retrying, waits for sends in flight, and syncs the outbox. Undelivered alerts wait on disk for the next start. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'stopped'
    this.#status?.stop()
    for (const r of this.#rules) r.limiter?.flush()
    await this.#dispatcher.stop()
    await this.#outbox.close()
    this.#warnDropped(true)
  }

  #compile(config: AlertRuleConfig): Rule {
    if (this.#byName.has(config.name)) throw new ConfigError(`alert rule '${config.name}' is defined twice`)
    for (const s of config.sinks) if (!Object.hasOwn(this.#opts.sinks, s)) throw new ConfigError(`alert rule '${config.name}' names sink '${s}', which is not defined`)
    const kind: AlertKind = config.when.rate ? 'rate' : config.when.status ? 'status' : 'event'
    const limit = config.rate_limit
    const limiter = limit
      ? new RateLimiter(limit.max, limit.per, (n, start) =>
          this.#log.warn('alerts suppressed by rate limit', { rule: config.name, suppressed: n, windowStart: new Date(start).toISOString(), max: limit.max, perMs: limit.per }),
        )
      : undefined
    const rule: Rule = { config, kind, limiter, rate: config.when.rate ? new RateCondition(config.when.rate) : undefined, suppressed: 0 }
    this.#byName.set(config.name, rule)
    return rule
  }

  #fire(r: Rule, now: number, make: () => { summary: string; details: Record<string, unknown> }): void {
    const name = r.config.name
    if (r.limiter && !r.limiter.allow(now)) {
      r.suppressed++ // into the metric at scrape time: a labelled inc per event costs too much here
      return
    }
    const { summary, details } = make()
    const alert = createAlert({ rule: name, severity: r.config.severity, kind: r.kind, edgeId: this.#opts.edgeId, summary, details }, now)
    const sinks = r.config.sinks
    const { seq, durable } = this.#outbox.append(alert, sinks)
    this.#metrics.fired.inc({ rule: name })
    this.#recent.push({ seq, alert, sinks })
    if (this.#recent.length > RECENT_KEPT) this.#recent.splice(0, this.#recent.length - RECENT_KEPT)
    for (const cb of this.#listeners) {
      try {
        cb(alert, seq, sinks)
      } catch (e) {
        this.#log.error('onFired listener failed', { rule: name, ...errorMeta(e) })
      }
    }
    if (sinks.length === 0) return
    durable.then(
      () => this.#dispatcher.enqueue(seq, sinks),
      (e: unknown) => {
        // Better sent without a safety copy than not sent at all.
        this.#log.error('alert not written to the outbox; sending it anyway', { rule: name, alertId: alert.id, ...errorMeta(e) })
        this.#dispatcher.enqueue(seq, sinks)
      },
    )
  }

  /** Alerts a previous run left undelivered go back in line; sinks no longer configured let go of theirs. */
  #requeueLeftovers(sinks: ReadonlyMap<string, AlertSink>): void {
    const entries = [...this.#outbox.entries()]
    const gone = new Map<string, number>()
    for (const e of entries) {
      for (const s of [...e.pending]) {
        if (sinks.has(s)) continue
        this.#outbox.settle(e.seq, s)
        gone.set(s, (gone.get(s) ?? 0) + 1)
        this.#metrics.dropped.inc({ reason: 'sink_removed' })
      }
      if (e.pending.size > 0) this.#dispatcher.enqueue(e.seq, e.pending)
    }
    for (const [sink, n] of gone) this.#log.warn('queued alerts were for a sink no longer configured; dropped', { sink, alerts: n })
    if (entries.length > 0) this.#log.info('undelivered alerts from the last run queued again', { alerts: this.#outbox.size })
  }

  #droppedOldest(e: OutboxEntry): void {
    this.#metrics.dropped.inc({ reason: 'queue_full' })
    this.#dropped++
    this.#log.debug('alert dropped: outbox full', { rule: e.alert.rule, alertId: e.alert.id })
    this.#warnDropped(false)
  }

  /** At most one warning a minute about dropped alerts, with how many. */
  #warnDropped(final: boolean): void {
    if (this.#dropped === 0) return
    const now = Date.now()
    if (!final && now - this.#dropWarnedAt < DROP_WARN_EVERY_MS) return
    this.#log.warn('alert outbox full; oldest undelivered alerts dropped', { dropped: this.#dropped, maxQueued: this.#opts.delivery?.max_queued ?? 10_000 })
    this.#dropped = 0
    this.#dropWarnedAt = now
  }

  #ignore(rule: string | number, r: Rule | undefined): void {
    if (this.#state === 'stopped' || this.#ignored.has(rule)) return
    this.#ignored.add(rule)
    this.#log.warn(r ? 'status rules are not driven by events; hit ignored' : 'hit for an unknown alert rule ignored', { rule })
  }
}
