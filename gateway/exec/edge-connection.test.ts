import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { BackendCode, FrontendEncoder } from '../../common/pgwire/index.js'
import { WireServer } from '../../common/pgwire/server/server.js'
import { makeScramSecret } from '../../common/scram.js'
import { EdgePool } from './edge-pool.js'
import { ShardStream } from './shard-stream.js'

const log = rootLogger('test', 'error')
const ROWS = 3

describe('edge connection', () => {
  let server: WireServer
  let port: number
  before(async () => {
    server = new WireServer({
      host: '127.0.0.1',
      port: 0,
      database: 'edge',
      users: new Map([['gw', makeScramSecret('gw-secret')]]),
      maxConnections: 10,
      log,
      // Answers every Sync with a few rows and ReadyForQuery, written at once (one TCP chunk).
      createSession: async () => ({
        start: async () => {},
        handle: async (msg, out) => {
          if (msg.type !== 'Sync') return
          for (let i = 0; i < ROWS; i++) out.enc.dataRow([String(i)])
          out.enc.commandComplete(`SELECT ${ROWS}`)
          out.readyForQuery('I')
          await out.flush()
        },
        cancel: () => {},
        close: async () => {},
      }),
    })
    port = await server.listen()
  })
  after(() => server.close())

  test('a connection paused by its reader mid-reply goes back to the pool able to run again', async () => {
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000)
    const address = { edgeId: 'edge-x', host: '127.0.0.1', port, tls: false }
    const batch = new FrontendEncoder().sync().take()
    const conn = await pool.acquire(address)
    let rows = 0
    // The reader pauses at the first row, as a shard with a full queue does; the rest of the
    // chunk, ReadyForQuery included, is still delivered.
    await conn.run(batch, (f) => {
      if (f[0] === BackendCode.DataRow && rows++ === 0) conn.pause()
    })
    assert.equal(rows, ROWS)
    pool.release(conn)
    const again = await pool.acquire(address)
    assert.equal(again, conn, 'the pooled connection is reused')
    let second = 0
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the reused connection never answered')), 3000).unref())
    await Promise.race([again.run(batch, (f) => void (f[0] === BackendCode.DataRow && second++)), timeout])
    assert.equal(second, ROWS)
    pool.close()
  })
  test('output settings go in the startup packet; an edge that does not confirm them gets them in each batch', async () => {
    const settings = [['TimeZone', 'Asia/Tokyo'], ['DateStyle', 'ISO, DMY']] as const
    // Two edges: one reports the settings it was opened with (as PostgreSQL does), one reports
    // fixed values (as an edge agent of an older version does).
    const parsed: string[] = []
    const edge = (confirms: boolean) =>
      new WireServer({
        host: '127.0.0.1',
        port: 0,
        database: 'edge',
        users: new Map([['gw', makeScramSecret('gw-secret')]]),
        maxConnections: 10,
        log,
        createSession: async (ctx) => ({
          start: async (out) => {
            for (const n of ['TimeZone', 'DateStyle']) out.enc.parameterStatus(n, confirms ? (ctx.startupParams.get(n) ?? 'UTC') : 'UTC')
          },
          handle: async (msg, out) => {
            if (msg.type === 'Parse') parsed.push(msg.sql)
            if (msg.type === 'Execute') out.enc.commandComplete('SELECT 0')
            if (msg.type !== 'Sync') return
            out.readyForQuery('I')
            await out.flush()
          },
          cancel: () => {},
          close: async () => {},
        }),
      })
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000)
    const request = { sql: 'SELECT 1', paramTypes: [], params: [], paramFormats: [], resultFormats: [], settings }
    for (const confirms of [true, false]) {
      const server = edge(confirms)
      const port = await server.listen()
      parsed.length = 0
      const replica = { edgeId: `edge-${confirms}`, host: '127.0.0.1', port, tls: false, shard: 's', cluster: null, tags: [], schemaVersion: 1, synopsis: null, healthy: true } as never
      const stream = new ShardStream({ shard: 's', replicas: [replica] }, request, pool, 2000)
      assert.equal(await stream.next(), null)
      if (confirms) assert.deepEqual(parsed, ['SELECT 1'], 'a confirmed connection runs the statement alone')
      else assert.match(parsed[0] ?? '', /^SELECT pg_catalog\.set_config\('TimeZone', \$1, true\), pg_catalog\.set_config\('DateStyle', \$2, true\)$/)
      await server.close()
    }
    pool.close()
  })
})
