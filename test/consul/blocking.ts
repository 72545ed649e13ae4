/**
 * Blocking queries (`?index=&wait=`) for the project's Consul test server, with the semantics of
 * Consul's `blockingQuery`: answer at once when the resource index is already past `index`;
 * otherwise re-evaluate after every committed write and answer when it is, or when `wait`
 * (default 5 min, capped at 10 min, plus up to wait/16 jitter) runs out. A snapshot restore
 * (index reset) or a forced wake-up returns every blocked query at once, changed or not.
 */
import type { ServerResponse } from 'node:http'
import { indexParam, waitParam, type Reply } from './http-util.js'
import type { RaftLog } from './raft-log.js'

const DEFAULT_WAIT_MS = 5 * 60_000
const MAX_WAIT_MS = 10 * 60_000

export interface WaitTuning {
  /** Multiplies every effective wait, so tests can ask for `wait=5m` and get 5 s. */
  waitScale: number
  /** Real Consul adds up to wait/16 of random delay; on by default, so clients must allow for it. */
  waitJitter: boolean
}

/** The time a blocked query may hold, in ms, for a `wait` parameter (undefined: absent). */
export function effectiveWait(waitMs: number | undefined, tuning: WaitTuning): number {
  const base = Math.min(waitMs ?? DEFAULT_WAIT_MS, MAX_WAIT_MS) * tuning.waitScale
  return base + (tuning.waitJitter ? Math.random() * (base / 16) : 0)
}

/**
 * Serves a read. `evaluate` renders the reply from current state, including its resource
 * `index`; it runs again on every wake-up, so the answer is always current. `peek`, when given,
 * is that resource index alone, cheaply: a wake-up that leaves it where the query waits renders
 * nothing (every committed write wakes every blocked query; rendering a list of thousands of
 * entries for each made the server, not the client, the bottleneck of scale tests). Resolves
 * undefined when the client went away first.
 */
export function serveBlocking(
  query: URLSearchParams,
  res: ServerResponse,
  log: RaftLog,
  tuning: WaitTuning,
  evaluate: () => Reply,
  peek?: () => number,
): Promise<Reply | undefined> {
  const minIndex = indexParam(query)
  // Consul never reports an index below 1, and compares that clamped value.
  const fresh = (r: Reply) => r.index === undefined || Math.max(1, r.index) > minIndex
  const unchanged = peek && minIndex > 0 ? () => Math.max(1, peek()) <= minIndex : undefined
  return holdUntil(res, log, effectiveWait(waitParam(query), tuning), evaluate, minIndex === 0 ? () => true : fresh, unchanged)
}

/**
 * The waiting itself, shared with hash-based blocking (`?hash=` on agent endpoints): answers
 * when `fresh` accepts the current reply, on a reset or forced wake-up, or after `waitMs`. A
 * wake-up for which `unchanged` holds skips the render (`fresh` could not accept it).
 */
export function holdUntil(
  res: ServerResponse,
  log: RaftLog,
  waitMs: number,
  evaluate: () => Reply,
  fresh: (reply: Reply) => boolean,
  unchanged?: () => boolean,
): Promise<Reply | undefined> {
  const first = evaluate()
  if (fresh(first)) return Promise.resolve(first)
  return new Promise((resolve) => {
    let settled = false
    const finish = (reply: Reply | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unsubscribe()
      res.off('close', onClose)
      resolve(reply)
    }
    const safeEvaluate = (): Reply => {
      try {
        return evaluate()
      } catch (err) {
        return { status: 500, text: String(err) }
      }
    }
    const timer = setTimeout(() => finish(safeEvaluate()), waitMs)
    const unsubscribe = log.subscribe((abandoned) => {
      if (!abandoned && unchanged?.()) return
      const reply = safeEvaluate()
      if (abandoned || fresh(reply)) finish(reply)
    })
    const onClose = () => finish(undefined)
    res.on('close', onClose)
  })
}
