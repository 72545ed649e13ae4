import { resolve } from 'node:path'
import { rootLogger } from '../../common/log.js'
import type { Command } from '../command.js'
import type { DemoNetwork, LogLevel } from '../demo/demo-network.js'
import { intOption, portOption } from '../options.js'
import { listenForStop } from '../stop-signal.js'

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a demo network on this machine: event sources, edge agents and a gateway (npm start)',
  usage: 'fedgres demo [--config demo.yaml] [--edges 3] [--port 5432] [--data-dir ./.data/demo] [--rate 200]',
  options: {
    config: { type: 'string', short: 'c' },
    edges: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    rate: { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    config: 'config file (YAML or JSON: edges, port, data_dir, rate, log_level); FEDGRES_DEMO_* variables override it, flags override both',
    edges: 'edge agents, each pulling from its own KubeArmor-protocol event source (default 3)',
    port: 'gateway port on 127.0.0.1 for PostgreSQL clients (default 5432)',
    'data-dir': 'where the edges keep their stores and the demo its passwords and certificate (default ./.data/demo)',
    rate: 'events per second across the network, shared by the sources (default 200)',
    'log-level': "level of the edges', sources' and gateway's logs on stderr (default warn)",
  },
  async run(v) {
    // Loaded here, not at the top, so that the other commands never pay for the demo's modules (the gateway's among them).
    const [{ connectionHelp }, { startDemoNetwork }, { loadDemoConfig }] = await Promise.all([
      import('../demo/connection-help.js'),
      import('../demo/demo-network.js'),
      import('../demo/demo-config.js'),
    ])
    // Flags win over FEDGRES_DEMO_* variables, which win over the config file.
    const overrides: Record<string, unknown> = {}
    if (v.edges !== undefined) overrides.edges = intOption('edges', v.edges, 3, 1, 16)
    if (v.port !== undefined) overrides.port = portOption('port', v.port, 5432)
    if (v.rate !== undefined) overrides.rate = intOption('rate', v.rate, 200, 0, 100_000)
    if (v['data-dir'] !== undefined) overrides.data_dir = v['data-dir']
    if (v['log-level'] !== undefined) overrides.log_level = v['log-level']
    const cfg = loadDemoConfig({ file: v.config as string | undefined, overrides: overrides as never })
    const level: LogLevel = cfg.log_level
    const opts = { edges: cfg.edges, port: cfg.port, dataDir: resolve(cfg.data_dir), rate: cfg.rate, logLevel: level }
    const log = rootLogger('fedgres', level === 'debug' ? 'debug' : 'info').child({ component: 'demo' })
    const stop = listenForStop((signal) => log.warn('stopping at once', { signal }))
    let starting = true
    void stop.received.then((signal) => starting && log.info('stopping once started', { signal }))
    let net: DemoNetwork
    try {
      net = await startDemoNetwork(opts, log)
    } catch (e) {
      stop.dispose()
      throw e
    }
    starting = false
    if (!stop.signal && !(await net.edgesReady(15_000))) log.warn('not every edge is ready yet (passing, first events stored); queries answer from those that are')
    if (!stop.signal) {
      process.stdout.write(connectionHelp(net, opts.dataDir))
      log.info('demo ready', { port: net.port, edges: net.edges.length, dataDir: opts.dataDir })
    }
    const signal = await stop.received
    log.info('stopping', { signal })
    process.stdout.write('\nStopping: the gateway closes, the edges commit what they received...\n')
    await net.stop()
    stop.dispose()
    process.stdout.write('Stopped.\n')
    return 0
  },
}
