import { rootLogger } from '../../common/log.js'
import { startHttpEndpoint } from '../../common/http-endpoint.js'
import { loadEdgeConfig } from '../../edge-agent/config.js'
import { startEdge } from '../../edge-agent/services.js'
import { compileWasmWithOptimizerOnly } from '../../edge-agent/store/wasm-compiler.js'
import type { Command } from '../command.js'

export const edgeCommand: Command = {
  name: 'edge',
  summary: 'run an edge agent: pull events from KubeArmor, store them, serve gateways',
  usage: 'fedgres edge [--config edge.yaml] [--source host:port ...] [--data-dir dir]',
  options: {
    config: { type: 'string', short: 'c' },
    'data-dir': { type: 'string' },
    'edge-id': { type: 'string' },
    source: { type: 'string', multiple: true },
    port: { type: 'string' },
    'metrics-port': { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    config: 'config file (YAML or JSON); FEDGRES_EDGE_* variables override it',
    'data-dir': 'where the store and spool live (data_dir)',
    'edge-id': 'this edge\'s id (edge_id; default: the host name)',
    source: 'KubeArmor daemon or relay address, repeatable (sources)',
    port: 'port of the query endpoint for gateways (serve.port)',
    'metrics-port': 'port of /metrics and health probes (metrics.port)',
    'log-level': 'error, warn, info or debug',
  },
  async run(v) {
    const overrides: Record<string, unknown> = {}
    if (v['data-dir']) overrides.data_dir = v['data-dir']
    if (v['edge-id']) overrides.edge_id = v['edge-id']
    if (v['log-level']) overrides.log_level = v['log-level']
    const cfg = loadEdgeConfig({ file: v.config as string | undefined, overrides: overrides as never })
    if (v.source) cfg.sources = (v.source as string[]).map((address) => ({ address, health_interval: 30_000, reconnect_max: 30_000 }))
    if (v.port) cfg.serve.port = Number(v.port)
    if (v['metrics-port']) cfg.metrics = { host: cfg.metrics?.host ?? '0.0.0.0', port: Number(v['metrics-port']) }
    const log = rootLogger('edge-agent', cfg.log_level).child({ edgeId: cfg.edge_id })
    compileWasmWithOptimizerOnly()
    const edge = await startEdge(cfg, log)
    const agent = edge.agent
    let metrics: Awaited<ReturnType<typeof startHttpEndpoint>> | undefined
    try {
      metrics = cfg.metrics
        ? await startHttpEndpoint({ host: cfg.metrics.host, port: cfg.metrics.port, registry: agent.metrics.registry, ready: () => !agent.storeFailing && !agent.spoolFailing })
        : undefined
    } catch (e) {
      // A port in use: the agent must not run on without its probes, nor keep the process up.
      await edge.stop()
      throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new Error(`metrics port ${cfg.metrics!.port} on ${cfg.metrics!.host} is already in use; pick another with --metrics-port`) : e
    }
    log.info('edge agent ready', { dataDir: cfg.data_dir, sources: cfg.sources.map((s) => s.address), servePort: edge.servePort, metricsPort: metrics?.port })
    const lost = await Promise.race([
      new Promise<undefined>((resolve) => {
        const stop = (signal: string) => {
          log.info('stopping', { signal })
          resolve(undefined)
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
      }),
      agent.storeLost,
    ])
    if (lost) log.error('the store must be reopened; stopping, so that the service manager starts the agent again', { error: lost.message })
    try {
      await edge.stop()
    } catch (e) {
      if (!lost) throw e
    } finally {
      // An open /metrics server kept a process whose stop() failed alive (with nothing left to stop it).
      await metrics?.close()
    }
    return lost ? 70 : 0
  },
}
