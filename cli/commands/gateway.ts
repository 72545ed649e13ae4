import { rootLogger } from '../../common/log.js'
import { loadGatewayConfig } from '../../gateway/config.js'
import { startGateway } from '../../gateway/gateway.js'
import type { Command } from '../command.js'

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'run a gateway: a PostgreSQL server over every edge (psql, JDBC, ODBC, Npgsql, ORMs)',
  usage: 'fedgres gateway [--config gateway.yaml] [--port N]',
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
    const overrides: Record<string, unknown> = {}
    if (v['log-level']) overrides.log_level = v['log-level']
    const cfg = loadGatewayConfig({ file: v.config as string | undefined, overrides: overrides as never })
    if (v.port) cfg.listen.port = Number(v.port)
    if (v['metrics-port']) cfg.metrics = { host: cfg.metrics?.host ?? '0.0.0.0', port: Number(v['metrics-port']) }
    const log = rootLogger('gateway', cfg.log_level)
    const gw = await startGateway(cfg, log)
    log.info('gateway ready', { port: gw.port, metricsPort: gw.metricsPort, discovery: cfg.discovery.kind })
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve())
      process.once('SIGINT', () => resolve())
    })
    await gw.close()
    return 0
  },
}
