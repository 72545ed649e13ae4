/**
 * The agent's alerting: an AlertEngine over the config's rules, fed the agent's status (sources,
 * spool depth, data dir) for status rules, with every fired alert recorded in
 * fedgres.fired_alerts. The event rules' hits come from the agent's receive path.
 */
import { join } from 'node:path'
import type { Logger } from '../common/log.js'
import { AlertEngine } from './alerts/index.js'
import type { EdgeConfig } from './config.js'
import { FiredAlertLog } from './fired-alert-log.js'
import type { KubeArmorClient } from './ingest/kubearmor-client.js'
import type { EdgeMetrics } from './metrics.js'
import type { EdgeStore } from './store/edge-store.js'

export interface AgentStatus {
  readonly sources: readonly KubeArmorClient[]
  /** Events received but not yet committed. */
  spoolDepth(): number
}

export interface Alerting {
  readonly engine: AlertEngine
  stop(): Promise<void>
}

export function startAlerting(cfg: EdgeConfig, store: EdgeStore, metrics: EdgeMetrics, status: AgentStatus, log: Logger): Alerting | undefined {
  const a = cfg.alerts
  if (!a || a.rules.length === 0) return undefined
  const started = Date.now()
  /** Per source: connected or not, and since when; a source never connected counts from start. */
  const links = new Map<string, { connected: boolean; since: number }>()
  const firedLog = new FiredAlertLog(store, log)
  const engine = new AlertEngine({
    edgeId: cfg.edge_id,
    dir: join(cfg.data_dir, 'alerts'),
    rules: a.rules,
    sinks: a.sinks,
    log,
    registry: metrics.registry,
    delivery: a.delivery,
    statusInterval: a.status_interval,
    statusSnapshot: () => ({
      sources: status.sources.map((s) => {
        const connected = s.stats.state === 'connected'
        let link = links.get(s.address)
        if (!link) link = { connected, since: connected ? (s.stats.connectedSince?.getTime() ?? started) : started }
        else if (link.connected !== connected) link = { connected, since: Date.now() }
        links.set(s.address, link)
        return { address: s.address, connected, since: link.since }
      }),
      spoolDepth: status.spoolDepth(),
      dataDir: cfg.data_dir,
    }),
  })
  engine.onFired((alert, _seq, sinks) => firedLog.record(alert, sinks))
  engine.start()
  return {
    engine,
    async stop() {
      await engine.stop()
      await firedLog.flush()
    },
  }
}
