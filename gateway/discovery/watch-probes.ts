/**
 * The index probes of the gateway's two Consul watches (common/consul/index-confirmation.ts):
 * while a watch's poll is parked, a small read of the same index shows whether what it holds is
 * still current, and a change its poll was not told of makes it read afresh.
 */
import type { Logger } from '../../common/log.js'
import type { BlockingWatch } from '../../common/consul/blocking-watch.js'
import type { ConsulClient } from '../../common/consul/consul-client.js'
import { IndexConfirmation } from '../../common/consul/index-confirmation.js'
import { SYNOPSIS_MAX_AGE_MS } from '../../schema/synopsis.js'

export const KV_PREFIX = 'fedgres/edges/'

/**
 * The probe of the KV prefix's index: `fedgres/edges` with separator `/` lists the one key
 * `fedgres/edges/` (every key under the prefix collapses into it) and reports the highest
 * ModifyIndex of them all, as the watch's list does. (It also counts keys named `fedgres/edges…`
 * without the slash; none exist in Fedgres's namespace.) It goes out once the synopses'
 * confirmation is a quarter of SYNOPSIS_MAX_AGE_MS old, so the next lands well within it.
 */
const KV_PROBE = { path: `/v1/kv/${KV_PREFIX.slice(0, -1)}`, query: { keys: '', separator: '/' }, everyMs: Math.floor(SYNOPSIS_MAX_AGE_MS / 4) }

/**
 * The probe of the health watch's index: the same read with a filter no instance matches (every
 * instance has an ID), so its body is `[]` and its index the watch's. Under a parked health poll
 * whose connection died, an edge going down or coming back showed only at the poll's timeout.
 */
const HEALTH_PROBE = { query: { passing: '1', filter: 'Service.ID is empty' }, everyMs: 2000 }

export interface WatchProbes {
  /** Vouches for the synopses (its confirmedAt is the planner's). */
  readonly kv: IndexConfirmation
  readonly health: IndexConfirmation
}

/** Starts both probes; each counts an answer of its watch as a confirmation of its own. */
export function startWatchProbes(client: ConsulClient, kv: BlockingWatch, health: BlockingWatch, healthPath: string, log: Logger): WatchProbes {
  const probes = {
    kv: new IndexConfirmation({ client, watch: kv, ...KV_PROBE, log }),
    health: new IndexConfirmation({ client, watch: health, path: healthPath, ...HEALTH_PROBE, log }),
  }
  probes.kv.start(() => kv.lastSuccessAt ?? 0)
  probes.health.start(() => health.lastSuccessAt ?? 0)
  return probes
}
