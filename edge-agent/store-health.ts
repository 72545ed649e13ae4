/**
 * What the agent learns of its store from the store's events: commits, rejected rows, statistics,
 * checkpoints and failures, turned into metrics, logs and the health the agent reports
 * (/readyz, /metrics, and the loss that makes the CLI restart it).
 */
import type { Logger } from '../common/log.js'
import { errorMeta } from '../common/log.js'
import type { EdgeMetrics } from './metrics.js'
import type { EdgeStore } from './store/edge-store.js'

export class StoreHealth {
  /**
   * The store's last commit failed (and it retries): received events wait in the spool. /readyz
   * says so; it said ready while a store that could not commit held every event back.
   */
  failing = false
  #lastFailure = { cause: '', at: 0 }
  #lost!: (e: Error) => void
  /**
   * Resolves when the store failed in a way only reopening it mends (PGlite after a failed
   * checkpoint on a full disk): it refuses queries meanwhile. The CLI then stops the agent and
   * exits non-zero, so its supervisor starts it again; nothing counted as received is lost.
   */
  readonly lost = new Promise<Error>((resolve) => (this.#lost = resolve))

  constructor(store: EdgeStore, metrics: EdgeMetrics, log: Logger, onRejected: (rows: number) => void) {
    store.on('analyzed', (a) => {
      metrics.analyzeSeconds.observe(a.ms / 1000)
      log.debug('planner statistics gathered', { relation: a.relation, ms: Math.round(a.ms) })
    })
    store.on('checkpointed', (c) => {
      metrics.checkpoints.inc({ cause: c.cause })
      metrics.checkpointSeconds.observe(c.ms / 1000)
      log.debug('store checkpointed', { cause: c.cause, walMb: Math.round(c.walBytes / 1e5) / 10, ms: Math.round(c.ms) })
    })
    store.on('committed', (ev) => {
      metrics.batchSeconds.observe(ev.batchMs / 1000)
      this.failing = false
      metrics.storeFailing.set(0)
    })
    store.on('rejected', ({ rows, error }) => {
      onRejected(rows)
      metrics.dropped.inc({ reason: 'rejected' }, rows)
      log.error('rows rejected by the store; kept in fedgres_internal.rejected_rows', { rows, error })
    })
    store.on('fatal', (e: Error & { poisoned?: boolean }) => {
      // Once per cause and minute: a full disk fails every flush's attempt.
      // The cause without its figures: '12.5 MiB free on the store's disk ...' is one cause at any MiB.
      const now = Date.now()
      const cause = e.message.replace(/\d+(\.\d+)?/g, '#')
      if (!this.failing || cause !== this.#lastFailure.cause || now - this.#lastFailure.at > 60_000) {
        log.error('store failed', errorMeta(e))
        this.#lastFailure = { cause, at: now }
      } else log.debug('store failed again', { message: e.message })
      this.failing = true
      metrics.storeFailing.set(1)
      if (e.poisoned) this.#lost(e)
    })
  }
}
