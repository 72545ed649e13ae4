import { resolve } from 'node:path'
import { rootLogger } from '../../common/log.js'
import type { Command } from '../command.js'
import { connectionHelp } from '../demo/connection-help.js'
import { startDemoNetwork, type DemoNetwork, type LogLevel } from '../demo/demo-network.js'
import { intOption, portOption } from '../options.js'
import { listenForStop } from '../stop-signal.js'

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug']

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a demo network on this machine: event sources, edge agents and a gateway (npm start)',
  usage: 'fedgres demo [--edges 3] [--port 5432] [--data-dir ./.data/demo] [--rate 200]',
  options: {
    edges: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    rate: { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    edges: 'edge agents, each pulling from its own KubeArmor-protocol event source (default 3)',
    port: 'gateway port on 127.0.0.1 for PostgreSQL clients (default 5432)',
    'data-dir': 'where the edges keep their stores and the demo its passwords and certificate (default ./.data/demo)',
    rate: 'events per second across the network, shared by the sources (default 200)',
    'log-level': "level of the edges', sources' and gateway's logs on stderr (default warn)",
  },
  async run(v) {
    const level = ((v['log-level'] as string | undefined) ?? 'warn') as LogLevel
    if (!LEVELS.includes(level)) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`)
    const opts = {
      edges: intOption('edges', v.edges, 3, 1, 16),
      port: portOption('port', v.port, 5432),
      dataDir: resolve((v['data-dir'] as string | undefined) ?? './.data/demo'),
      rate: intOption('rate', v.rate, 200, 0, 100_000),
      logLevel: level,
    }
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
