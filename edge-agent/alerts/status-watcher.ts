/**
 * Status rules: polls the agent's state and fires when a condition becomes true.
 *
 * Conditions are edge-triggered: one alert when a condition turns true, none while it stays
 * true, and another only after it has been seen false (cleared) and then true again. Each source
 * is its own condition for `source_disconnected`, so two sources going down fire two alerts.
 * State is in memory: after a restart a condition that still holds fires again.
 *
 *  - source_disconnected {for}: the source is not connected and has not been for at least `for`.
 *  - disk_used_percent {above}: the data dir's filesystem is more than `above` % full, counted
 *    as df does: used / (used + available to unprivileged users).
 *  - spool_depth {above}: more than `above` events received but not committed.
 */
import { statfs } from 'node:fs/promises'
import type { Logger } from '../../common/log.js'
import { errorMeta } from '../../common/log.js'
import type { StatusConditionConfig } from './alert-config.js'
import { formatDuration } from './alert-summary.js'

export interface SourceStatus {
  readonly address: string
  readonly connected: boolean
  /** Epoch ms of the last change between connected and not. */
  readonly since: number
}

export interface StatusSnapshot {
  readonly sources: readonly SourceStatus[]
  readonly spoolDepth: number
  readonly dataDir: string
}

export interface DiskUsage {
  readonly usedPercent: number
  readonly usedBytes: number
  readonly availableBytes: number
}

export async function diskUsage(dir: string): Promise<DiskUsage> {
  const s = await statfs(dir)
  const usedBytes = (s.blocks - s.bfree) * s.bsize
  const availableBytes = s.bavail * s.bsize
  const usedPercent = usedBytes + availableBytes > 0 ? (usedBytes / (usedBytes + availableBytes)) * 100 : 0
  return { usedPercent, usedBytes, availableBytes }
}

export interface StatusRule {
  readonly name: string
  readonly condition: StatusConditionConfig
}

export interface StatusFiring {
  readonly rule: string
  readonly summary: string
  readonly details: Record<string, unknown>
}

export interface StatusWatcherOptions {
  readonly rules: readonly StatusRule[]
  readonly snapshot: () => StatusSnapshot
  readonly onFire: (firing: StatusFiring) => void
  readonly intervalMs: number
  readonly log: Logger
  readonly now?: () => number
  readonly diskUsage?: (dir: string) => Promise<DiskUsage>
}

/** A condition that holds now: its key (the source address, or '') and what the alert reports. */
type Holding = { key: string; summary: string; details: Record<string, unknown> }

export class StatusWatcher {
  readonly #opts: StatusWatcherOptions
  readonly #now: () => number
  readonly #diskUsage: (dir: string) => Promise<DiskUsage>
  /** `${rule}\0${key}` of the conditions that fired and have not cleared. */
  readonly #active = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #checking = false
  #diskFailing = false

  constructor(opts: StatusWatcherOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#diskUsage = opts.diskUsage ?? diskUsage
  }

  start(): void {
    if (this.#timer || this.#opts.rules.length === 0) return
    this.#timer = setInterval(() => void this.check(), this.#opts.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** One look at the agent; fires what turned true and forgets what cleared. */
  async check(): Promise<void> {
    if (this.#checking) return // a slow statfs must not pile up checks
    this.#checking = true
    try {
      const snap = this.#opts.snapshot()
      const now = this.#now()
      const needsDisk = this.#opts.rules.some((r) => r.condition.disk_used_percent)
      const disk = needsDisk ? await this.#disk(snap.dataDir) : undefined
      for (const rule of this.#opts.rules) {
        const holding = this.#evaluate(rule.condition, snap, now, disk)
        if (holding) this.#update(rule.name, holding)
      }
    } catch (e) {
      this.#opts.log.error('status check failed', errorMeta(e))
    } finally {
      this.#checking = false
    }
  }

  /** The conditions of one rule that hold now, or undefined when it cannot tell (no disk figures). */
  #evaluate(c: StatusConditionConfig, snap: StatusSnapshot, now: number, disk: DiskUsage | undefined): Holding[] | undefined {
    if (c.source_disconnected) {
      const forMs = c.source_disconnected.for
      return snap.sources
        .filter((s) => !s.connected && now - s.since >= forMs)
        .map((s) => ({
          key: s.address,
          summary: `KubeArmor source ${s.address} disconnected for ${formatDuration(now - s.since)}`,
          details: { source: s.address, disconnected_since: new Date(s.since).toISOString(), disconnected_ms: now - s.since, for_ms: forMs },
        }))
    }
    if (c.disk_used_percent) {
      if (!disk) return undefined
      const above = c.disk_used_percent.above
      if (disk.usedPercent <= above) return []
      const pct = Math.round(disk.usedPercent * 10) / 10
      return [
        {
          key: '',
          summary: `data dir filesystem ${pct}% full (threshold ${above}%)`,
          details: { data_dir: snap.dataDir, used_percent: pct, used_bytes: disk.usedBytes, available_bytes: disk.availableBytes, above },
        },
      ]
    }
    if (c.spool_depth) {
      const above = c.spool_depth.above
      if (snap.spoolDepth <= above) return []
      return [{ key: '', summary: `${snap.spoolDepth} events waiting in the spool (threshold ${above})`, details: { spool_depth: snap.spoolDepth, above } }]
    }
    return []
  }

  #update(rule: string, holding: readonly Holding[]): void {
    const now = new Set(holding.map((h) => `${rule}\0${h.key}`))
    for (const id of this.#active) {
      if (id.startsWith(`${rule}\0`) && !now.has(id)) {
        this.#active.delete(id)
        this.#opts.log.info('status condition cleared', { rule, key: id.slice(rule.length + 1) || undefined })
      }
    }
    for (const h of holding) {
      const id = `${rule}\0${h.key}`
      if (this.#active.has(id)) continue
      this.#active.add(id)
      this.#opts.onFire({ rule, summary: h.summary, details: h.details })
    }
  }

  async #disk(dir: string): Promise<DiskUsage | undefined> {
    try {
      const usage = await this.#diskUsage(dir)
      this.#diskFailing = false
      return usage
    } catch (e) {
      if (!this.#diskFailing) this.#opts.log.warn('cannot read disk usage of the data dir', { dir, ...errorMeta(e) })
      this.#diskFailing = true
      return undefined
    }
  }
}
