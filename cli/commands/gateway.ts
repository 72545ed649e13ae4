import { rootLogger } from '../../common/log.js'
import type { RunningGateway } from '../../gateway/gateway.js'
import type { Command } from '../command.js'
import { portOption } from '../options.js'
import { listenForStop } from '../stop-signal.js'

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run a gateway: one PostgreSQL database over every edge, for psql, BI tools and ORMs',
  usage: 'fedgres gateway [--config gateway.yaml] [--port 5432] [--metrics-port N]',
  options: {
    config: { type: 'string', short: 'c' },
    port: { type: 'string' },
    'metrics-port': { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    config: 'config file (YAML or JSON); FEDGRES_GATEWAY_* variables override it',
    port: 'port for PostgreSQL clients (listen.port, default 5432)',
    'metrics-port': 'port of /metrics and health probes (metrics.port)',
    'log-level': 'error, warn, info or debug',
  },
  async run(v) {
    // Loaded here, not at the top: the other commands (an edge agent above all) never pay for the gateway's modules.
    const [{ loadGatewayConfig }, { startGateway }] = await Promise.all([import('../../gateway/config.js'), import('../../gateway/gateway.js')])
    const overrides: Record<string, unknown> = {}
    if (v['log-level']) overrides.log_level = v['log-level']
    const port = v.port === undefined ? undefined : portOption('port', v.port)
    const metricsPort = v['metrics-port'] === undefined ? undefined : portOption('metrics-port', v['metrics-port'])
    const cfg = loadGatewayConfig({ file: v.config as string | undefined, overrides: overrides as never })
    if (port !== undefined) cfg.listen.port = port
    if (metricsPort !== undefined) cfg.metrics = { host: cfg.metrics?.host ?? '0.0.0.0', port: metricsPort }
    const log = rootLogger('gateway', cfg.log_level)
    const stop = listenForStop((signal) => log.warn('stopping at once', { signal }))
    let gateway: RunningGateway
    try {
      gateway = await startGateway(cfg, log)
    } catch (e) {
      stop.dispose()
      throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new Error(`port ${cfg.listen.port} on ${cfg.listen.host} is already in use; pick another with --port`) : e
    }
    log.info('gateway ready', { port: gateway.port, metricsPort: gateway.metricsPort, discovery: cfg.discovery.kind, tls: Boolean(cfg.tls) })
    log.info('stopping', { signal: await stop.received })
    await gateway.close() // connected clients get FATAL 57P01
    stop.dispose()
    log.info('gateway stopped')
    return 0
  },
}
