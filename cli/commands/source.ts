import { rootLogger } from '../../common/log.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import type { Command } from '../command.js'
import { loadSourceConfig } from '../../event-source/source-config.js'
import type { Logger } from '../../common/log.js'
import client from 'prom-client'
import { startHttpEndpoint } from '../../common/http-endpoint.js'

async function startSourceMetrics(src: KubeArmorEventSource, host: string, port: number) {
  const registry = new client.Registry()
  for (const key of ['generated', 'offered', 'sent', 'dropped'] as const) {
    new client.Counter({
      name: `fedgres_source_events_${key}_total`,
      help: `Events ${key} by the event source`,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(src.stats[key])
      },
    })
  }
  return startHttpEndpoint({ host, port, registry })
}

/** Waits for a client on both streams, sends at `rate` for `seconds`, then reports what it offered. */
async function benchmarkRun(src: KubeArmorEventSource, rate: number, seconds: number, log: Logger): Promise<void> {
  while (src.subscribers('alerts') === 0 || src.subscribers('logs') === 0) await new Promise((r) => setTimeout(r, 20))
  const before = { offered: src.stats.offered, dropped: src.stats.dropped }
  const startedAt = Date.now()
  src.setRate(rate)
  await new Promise((r) => setTimeout(r, seconds * 1000))
  src.setRate(0)
  log.warn('event source run finished', {
    startedAt,
    seconds,
    generatedForClients: src.stats.offered - before.offered,
    dropped: src.stats.dropped - before.dropped,
  })
}

/** A numeric flag, checked here so a typo names the flag. */
function flagNumber(name: string, raw: string): number {
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${raw}'`)
  return n
}

export const sourceCommand: Command = {
  name: 'source',
  summary: 'run a KubeArmor-protocol event source (a simulator of a KubeArmor daemon or relay)',
  usage: 'fedgres source [--config source.yaml] [--port 32767] [--rate 200] [--hosts node-1,node-2] [--cluster name]',
  options: {
    config: { type: 'string', short: 'c' },
    host: { type: 'string' },
    port: { type: 'string' },
    rate: { type: 'string' },
    hosts: { type: 'string' },
    cluster: { type: 'string' },
    seed: { type: 'string' },
    mode: { type: 'string' },
    limit: { type: 'string' },
    'metrics-port': { type: 'string' },
    'run-rate': { type: 'string' },
    'run-seconds': { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    config: 'config file (YAML or JSON: host, port, rate, hosts, cluster, seed, mode, limit, tls, metrics_port, log_level); FEDGRES_SOURCE_* variables override it, flags override both',
    host: 'address to listen on (default 127.0.0.1)',
    port: 'gRPC port (default 32767, KubeArmor\'s)',
    rate: 'events per second, alerts and logs together (default 200)',
    hosts: 'comma-separated node names the events come from (default the host name)',
    cluster: 'ClusterName of the events (default "default")',
    seed: 'PRNG seed, for reproducible traffic (default 1)',
    mode: 'exact (encode every event) or fast (re-stamp a pool; for benchmarks)',
    limit: 'stop generating after this many events',
    'metrics-port': 'serve Prometheus /metrics on this port',
    'run-rate': 'benchmark run: once a client has both streams open, send at this rate...',
    'run-seconds': '...for this many seconds, then log "event source run finished"',
    'log-level': 'error, warn, info or debug',
  },
  async run(v) {
    // Flags win over FEDGRES_SOURCE_* variables, which win over the config file.
    const overrides: Record<string, unknown> = {}
    for (const key of ['host', 'cluster', 'mode'] as const) if (v[key] !== undefined) overrides[key] = v[key]
    for (const [flag, key] of [['port', 'port'], ['rate', 'rate'], ['seed', 'seed'], ['limit', 'limit'], ['metrics-port', 'metrics_port']] as const) {
      if (v[flag] !== undefined) overrides[key] = flagNumber(flag, v[flag] as string)
    }
    if (v.hosts !== undefined) overrides.hosts = (v.hosts as string).split(',').filter(Boolean)
    if (v['log-level'] !== undefined) overrides.log_level = v['log-level']
    const cfg = loadSourceConfig({ file: v.config as string | undefined, overrides: overrides as never })
    const log = rootLogger('event-source', cfg.log_level)
    const num = (name: string, dflt: number) => (v[name] === undefined ? dflt : flagNumber(name, v[name] as string))
    const src = new KubeArmorEventSource({
      host: cfg.host,
      port: cfg.port,
      rate: cfg.rate,
      hosts: cfg.hosts,
      cluster: cfg.cluster,
      seed: cfg.seed,
      mode: cfg.mode,
      limit: cfg.limit,
      tls: cfg.tls,
    })
    const port = await src.start()
    const metrics = cfg.metrics_port === undefined ? undefined : await startSourceMetrics(src, cfg.host, cfg.metrics_port)
    log.info('event source ready', { address: src.address, port, rate: cfg.rate, metricsPort: metrics?.port })
    const timer = setInterval(() => log.debug('event source stats', { ...src.stats }), 5000)
    if (v['run-rate'] !== undefined) void benchmarkRun(src, num('run-rate', 0), num('run-seconds', 10), log)
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
    })
    clearInterval(timer)
    await metrics?.close()
    await src.stop()
    log.info('event source stopped', { ...src.stats })
    return 0
  },
}
