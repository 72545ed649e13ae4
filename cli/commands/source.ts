import { rootLogger } from '../../common/log.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import type { Command } from '../command.js'

export const sourceCommand: Command = {
  name: 'source',
  summary: 'run a KubeArmor-protocol event source (a simulator of a KubeArmor daemon or relay)',
  usage: 'fedgres source [--port 32767] [--rate 200] [--hosts node-1,node-2] [--cluster name]',
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    rate: { type: 'string' },
    hosts: { type: 'string' },
    cluster: { type: 'string' },
    seed: { type: 'string' },
    mode: { type: 'string' },
    limit: { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    host: 'address to listen on (default 127.0.0.1)',
    port: 'gRPC port (default 32767, KubeArmor\'s)',
    rate: 'events per second, alerts and logs together (default 200)',
    hosts: 'comma-separated node names the events come from (default the host name)',
    cluster: 'ClusterName of the events (default "default")',
    seed: 'PRNG seed, for reproducible traffic (default 1)',
    mode: 'exact (encode every event) or fast (re-stamp a pool; for benchmarks)',
    limit: 'stop generating after this many events',
    'log-level': 'error, warn, info or debug',
  },
  async run(v) {
    const log = rootLogger('event-source', (v['log-level'] as string) ?? 'info')
    const num = (name: string, dflt: number) => {
      const raw = v[name] as string | undefined
      if (raw === undefined) return dflt
      const n = Number(raw)
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got '${raw}'`)
      return n
    }
    const mode = (v.mode as string | undefined) ?? 'exact'
    if (mode !== 'exact' && mode !== 'fast') throw new Error(`--mode must be exact or fast, got '${mode}'`)
    const src = new KubeArmorEventSource({
      host: (v.host as string) ?? '127.0.0.1',
      port: num('port', 32767),
      rate: num('rate', 200),
      hosts: ((v.hosts as string | undefined) ?? (process.env.HOSTNAME || 'node-1')).split(',').filter(Boolean),
      cluster: (v.cluster as string) ?? 'default',
      seed: num('seed', 1),
      mode,
      limit: v.limit === undefined ? undefined : num('limit', 0),
    })
    const port = await src.start()
    log.info('event source ready', { address: src.address, port, rate: num('rate', 200) })
    const timer = setInterval(() => log.debug('event source stats', { ...src.stats }), 5000)
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
    })
    clearInterval(timer)
    await src.stop()
    log.info('event source stopped', { ...src.stats })
    return 0
  },
}
