/**
 * A small live federation for fault and pruning tests: KubeArmor-protocol event sources feed
 * edge agents (real gRPC, real PGlite), each edge sits behind a TcpProxy so a test can kill or
 * silence it, and a gateway discovers them from a static list.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { edgeConfig } from './edge-fixtures.js'
import { startTestGateway, type GatewayFixture } from './gateway-fixture.js'
import { TcpProxy } from './tcp-proxy.js'
import { waitFor } from './wait.js'

export const EDGE_USER = 'fedgres_gateway'
export const EDGE_PASSWORD = 'edge-secret'

export interface MiniEdge {
  readonly id: string
  readonly shard: string
  readonly edge: RunningEdge
  readonly proxy: TcpProxy
  /** Queries the edge directly (as a gateway would), bypassing the proxy. */
  direct(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
}

export interface MiniFederation {
  readonly edges: MiniEdge[]
  readonly sources: KubeArmorEventSource[]
  readonly gateway: GatewayFixture
  client(): Promise<pg.Client>
  stop(): Promise<void>
}

export interface MiniEdgeSpec {
  readonly id: string
  /** Index of the source it pulls from. */
  readonly source: number
  readonly shard?: string
}

/** Starts sources (one host each), lets them emit `events` per source, then freezes them. */
export async function startMiniFederation(hosts: string[], specs: MiniEdgeSpec[], eventsPerSource = 600, gatewayExtra: Record<string, unknown> = {}): Promise<MiniFederation> {
  const dir = mkdtempSync(join(tmpdir(), 'fedgres-mini-'))
  const log = rootLogger('test', process.env.LOG_LEVEL ?? 'error')
  const sources = hosts.map((h) => new KubeArmorEventSource({ hosts: [h], rate: 0, port: 0, limit: eventsPerSource }))
  await Promise.all(sources.map((s) => s.start()))
  const edges: MiniEdge[] = []
  for (const spec of specs) {
    const cfg = edgeConfig(join(dir, spec.id), [sources[spec.source]!.address], {
      edge_id: spec.id,
      shard: spec.shard,
      serve: { host: '127.0.0.1', port: 0, users: [{ name: EDGE_USER, scram: makeScramSecret(EDGE_PASSWORD) }] },
    })
    const edge = await startEdge(cfg, log)
    const proxy = new TcpProxy({ host: '127.0.0.1', port: edge.servePort })
    await proxy.start()
    const direct = async (sql: string, params?: unknown[]) => {
      const c = new pg.Client({ host: '127.0.0.1', port: edge.servePort, user: EDGE_USER, password: EDGE_PASSWORD, database: 'fedgres' })
      await c.connect()
      try {
        return (await c.query(sql, params)).rows
      } finally {
        await c.end()
      }
    }
    edges.push({ id: spec.id, shard: spec.shard ?? spec.id, edge, proxy, direct })
  }
  // Every source sends its events once all its edges are subscribed, then stops.
  await waitFor('edges subscribed', () => sources.every((s, i) => s.subscribers('logs') >= specs.filter((e) => e.source === i).length))
  for (const s of sources) s.setRate(2000)
  await waitFor('events stored', async () => {
    for (const e of edges) {
      const [r] = await e.direct('SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM logs) AS n')
      if (Number(r!.n) < eventsPerSource) return false
    }
    return true
  }, 60_000, 200)
  const gateway = await startTestGateway({
    discovery: { kind: 'static', edges: edges.map((e) => ({ edge_id: e.id, address: `127.0.0.1:${e.proxy.port}`, shard: e.shard })), synopsis_poll: 200 },
    edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD },
    ...gatewayExtra,
  })
  await waitFor('synopses known', () => gateway.gateway.discovery!.current().edges.every((e) => e.synopsis !== null && e.status === 'passing'))
  return {
    edges,
    sources,
    gateway,
    async client() {
      const c = new pg.Client({ host: '127.0.0.1', port: gateway.port, user: gateway.user, password: gateway.password, database: 'fedgres' })
      await c.connect()
      return c
    },
    async stop() {
      await gateway.stop()
      for (const e of edges) {
        await e.proxy.close()
        await e.edge.stop()
      }
      for (const s of sources) await s.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
