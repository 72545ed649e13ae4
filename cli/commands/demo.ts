/**
 * `fedgres demo` (what `npm start` runs): a real network in one process, on this machine only —
 * KubeArmor-protocol event sources, one edge agent per source (real gRPC, PGlite on disk), and
 * a gateway with static discovery. Data and passwords persist in the data dir across starts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { edgeConfigSchema } from '../../edge-agent/config.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { gatewayConfigSchema } from '../../gateway/config.js'
import { startGateway } from '../../gateway/gateway.js'
import type { Command } from '../command.js'

const CLUSTERS = ['demo-east', 'demo-west']

/** Passwords made once and kept, so a second start keeps every client's saved settings valid. */
function secrets(dir: string): { analyst: string; edges: string } {
  const file = join(dir, 'secrets.json')
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { analyst: string; edges: string }
  const s = { analyst: randomBytes(9).toString('base64url'), edges: randomBytes(18).toString('base64url') }
  writeFileSync(file, JSON.stringify(s), { mode: 0o600 })
  return s
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const s = net.createServer()
    s.once('error', () => resolvePort(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolvePort(true)))
  })
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a demo network here: event sources, edge agents and a gateway (what npm start runs)',
  usage: 'fedgres demo [--edges 3] [--port 5432] [--data-dir ./.data/demo] [--rate 50]',
  options: {
    edges: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    rate: { type: 'string' },
    'log-level': { type: 'string' },
  },
  optionHelp: {
    edges: 'edge agents, each with its own KubeArmor-protocol event source (default 3)',
    port: 'gateway port for PostgreSQL clients (default 5432)',
    'data-dir': 'where edges keep their stores and the demo its passwords (default ./.data/demo)',
    rate: 'events per second per source (default 50)',
    'log-level': 'error, warn, info or debug (default warn)',
  },
  async run(v) {
    const n = Number(v.edges ?? 3)
    const port = Number(v.port ?? 5432)
    const rate = Number(v.rate ?? 50)
    if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error('--edges must be an integer from 1 to 16')
    const dir = resolve((v['data-dir'] as string | undefined) ?? './.data/demo')
    mkdirSync(dir, { recursive: true })
    const level = ((v['log-level'] as string | undefined) ?? 'warn') as 'warn'
    const log = rootLogger('gateway', level).child({ component: 'demo' })
    if (!(await portFree(port))) throw new Error(`port ${port} is in use on 127.0.0.1; pass another with --port (npm start -- --port 15432)`)
    const pw = secrets(dir)
    const sources: KubeArmorEventSource[] = []
    const edges: RunningEdge[] = []
    const stopAll = async () => {
      for (const e of edges) await e.stop().catch(() => {})
      for (const s of sources) await s.stop().catch(() => {})
    }
    try {
      for (let i = 0; i < n; i++) {
        const cluster = CLUSTERS[i % CLUSTERS.length]!
        const hosts = [`${cluster}-node-${i * 2 + 1}`, `${cluster}-node-${i * 2 + 2}`]
        const src = new KubeArmorEventSource({ hosts, cluster, rate, port: 0, seed: i + 1 })
        await src.start()
        sources.push(src)
        const cfg = edgeConfigSchema.parse({
          edge_id: `edge-${i + 1}`,
          data_dir: join(dir, `edge-${i + 1}`),
          cluster,
          node_tags: [`site:${cluster}`],
          sources: [{ address: src.address }],
          serve: { host: '127.0.0.1', port: 0, users: [{ name: 'fedgres_gateway', scram: makeScramSecret(pw.edges) }] },
          log_level: level,
        })
        edges.push(await startEdge(cfg, rootLogger('edge-agent', level).child({ edgeId: cfg.edge_id })))
      }
      const gwCfg = gatewayConfigSchema.parse({
        listen: { host: '127.0.0.1', port },
        users: [{ name: 'analyst', scram: makeScramSecret(pw.analyst) }],
        discovery: { kind: 'static', edges: edges.map((e) => ({ edge_id: e.agent.config.edge_id, address: `127.0.0.1:${e.servePort}`, cluster: e.agent.config.cluster })) },
        edge_credentials: { user: 'fedgres_gateway', password: pw.edges },
        catalog: { cache_dir: join(dir, 'catalog-cache') },
        log_level: level,
      })
      const gw = await startGateway(gwCfg, rootLogger('gateway', level))
      process.stdout.write(banner(port, pw.analyst, n, dir))
      log.info('demo ready', { port })
      await new Promise<void>((r) => {
        process.once('SIGINT', () => r())
        process.once('SIGTERM', () => r())
      })
      process.stdout.write('\nStopping: edges commit what they received...\n')
      await gw.close()
      await stopAll()
      process.stdout.write('Stopped.\n')
      return 0
    } catch (e) {
      await stopAll()
      throw e
    }
  },
}

function banner(port: number, password: string, n: number, dir: string): string {
  return `
Fedgres demo is running: ${n} edge agents, each pulling a KubeArmor-protocol event source, behind one gateway.
Data stays in ${dir} (a second start reuses it). Ctrl-C stops everything cleanly.

  user: analyst   password: ${password}   database: fedgres   host: 127.0.0.1   port: ${port}

psql:      PGPASSWORD='${password}' psql "host=127.0.0.1 port=${port} dbname=fedgres user=analyst"
JDBC:      jdbc:postgresql://127.0.0.1:${port}/fedgres?user=analyst&password=${password}
Power BI:  PostgreSQL database connector, Server 127.0.0.1:${port}, Database fedgres, user analyst
           (Npgsql: Host=127.0.0.1;Port=${port};Database=fedgres;Username=analyst;Password=${password})
Tableau:   PostgreSQL connector, Server 127.0.0.1, Port ${port}, Database fedgres, Username analyst
Grafana:   PostgreSQL data source, Host 127.0.0.1:${port}, Database fedgres, User analyst, TLS disabled (demo)

Try:
  SELECT namespace_name, pod_name, count(*) AS alerts FROM alerts GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10;
  SELECT edge_id, status, alerts_rows, logs_rows, max_time FROM fedgres.edges ORDER BY edge_id;
  EXPLAIN SELECT count(*) FROM logs WHERE host_name = 'demo-east-node-1';
`
}
