import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { BackendCode, FrontendEncoder } from '../../common/pgwire/index.js'
import { WireServer } from '../../common/pgwire/server/server.js'
import type { SessionFactory } from '../../common/pgwire/server/session-handler.js'
import { makeScramSecret } from '../../common/scram.js'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { EdgePool } from './edge-pool.js'
import { PREPARED_PER_CONNECTION } from './edge-statements.js'
import { DRAIN_MS, ShardStream } from './shard-stream.js'
import { SilenceWatch } from './silence-watch.js'
import { waitFor } from '../../test/helpers/wait.js'

const log = rootLogger('test', 'error')
const ROWS = 3

/** A test edge: the wire server with the gateway's login, its sessions from `createSession`. */
const fakeEdge = (createSession: SessionFactory) =>
  new WireServer({ host: '127.0.0.1', port: 0, database: 'edge', users: new Map([['gw', makeScramSecret('gw-secret')]]), maxConnections: 10, log, createSession })
const replicaAt = (edgeId: string, port: number) =>
  ({ edgeId, host: '127.0.0.1', port, tls: false, shard: 's', cluster: null, tags: [], schemaVersion: 1, status: 'passing', synopsis: null, synopsisCurrentAt: 0 }) as const

describe('edge connection', () => {
  let server: WireServer
  let port: number
  before(async () => {
    // Answers every Sync with a few rows and ReadyForQuery, written at once (one TCP chunk).
    server = fakeEdge(async () => ({
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
    }))
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
      fakeEdge(async (ctx) => ({
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
      }))
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000)
    const request = { sql: 'SELECT 1', paramTypes: [], params: [], paramFormats: [], resultFormats: [], settings }
    for (const confirms of [true, false]) {
      const server = edge(confirms)
      const port = await server.listen()
      parsed.length = 0
      const stream = new ShardStream({ shard: 's', replicas: [replicaAt(`edge-${confirms}`, port)] }, request, pool, new SilenceWatch(2000))
      assert.equal(await stream.next(), null)
      if (confirms) assert.deepEqual(parsed, ['SELECT 1'], 'a confirmed connection runs the statement alone')
      else assert.match(parsed[0] ?? '', /^SELECT pg_catalog\.set_config\('TimeZone', \$1, true\), pg_catalog\.set_config\('DateStyle', \$2, true\)$/)
      await server.close()
    }
    pool.close()
  })

  test('a statement sent again is prepared once per connection; an edge that keeps no named statements runs it unnamed', async () => {
    // A faithful enough edge: ParseComplete, BindComplete, one row per Execute; one that refuses
    // named statements at Parse with 0A000, as an edge agent of an older version did.
    const parses: string[] = []
    let closes = 0
    const edge = (refusesNamed: boolean) =>
      fakeEdge(async () => {
        let skipping = false
        return {
          start: async () => {},
          handle: async (msg, out) => {
            if (msg.type === 'Sync') {
              skipping = false
              out.readyForQuery('I')
              return out.flush()
            }
            if (skipping) return
            if (msg.type === 'Parse') {
              if (refusesNamed && msg.name !== '') {
                out.error(new PgError(SqlState.FeatureNotSupported, 'an edge keeps no named prepared statements; use the unnamed statement'))
                skipping = true
                return
              }
              parses.push(`${msg.name}:${msg.sql}`)
              out.enc.parseComplete()
            } else if (msg.type === 'Bind') out.enc.bindComplete()
            else if (msg.type === 'Close') {
              closes++
              out.enc.closeComplete()
            } else if (msg.type === 'Execute') out.enc.dataRow(['1']).commandComplete('SELECT 1')
          },
          cancel: () => {},
          close: async () => {},
        }
      })
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000)
    const request = (sql: string) => ({ sql, paramTypes: [], params: [], paramFormats: [], resultFormats: [], settings: [] })
    for (const refusesNamed of [false, true]) {
      const server = edge(refusesNamed)
      const port = await server.listen()
      parses.length = 0
      const replica = replicaAt(`edge-${refusesNamed}`, port)
      const rows = async (sql: string) => {
        const stream = new ShardStream({ shard: 's', replicas: [replica] }, request(sql), pool, new SilenceWatch(2000))
        let n = 0
        while (await stream.next()) n++
        return n
      }
      for (let i = 0; i < 3; i++) assert.equal(await rows('SELECT 1 FROM logs'), 1)
      if (refusesNamed) assert.deepEqual(parses, [':SELECT 1 FROM logs', ':SELECT 1 FROM logs', ':SELECT 1 FROM logs'], 'unnamed, parsed each time')
      else {
        // Sent once, a statement runs unnamed; from the second time, it is parsed once under a name.
        assert.match(parses.join(), /^:SELECT 1 FROM logs,fedgres_\w+:SELECT 1 FROM logs$/)
        // A connection keeps the most recently used statements; older ones are closed on the edge.
        for (let i = 0; i < PREPARED_PER_CONNECTION; i++) for (let j = 0; j < 2; j++) await rows(`SELECT ${i} AS n FROM logs`)
        assert.equal(closes, 1, 'the least recently used statement was closed')
        parses.length = 0
        await rows('SELECT 1 FROM logs')
        assert.equal(parses.length, 1, 'and is parsed again when it comes back')
      }
      await server.close()
    }
    pool.close()
  })

  test('a statement with enough rows lets its shards end their replies, keeping the connections; an edge that does not end is cancelled', async () => {
    // The rows at once; the reply's end 300 ms later, or never (hang).
    let cancels = 0
    let hang = false
    const server = fakeEdge(async () => ({
      start: async () => {},
      handle: async (msg, out) => {
        if (msg.type !== 'Sync') return
        for (let i = 0; i < ROWS; i++) out.enc.dataRow([String(i)])
        await out.flush()
        if (hang) return
        await new Promise((r) => setTimeout(r, 300))
        out.enc.commandComplete(`SELECT ${ROWS}`)
        out.readyForQuery('I')
        await out.flush()
      },
      cancel: () => void cancels++,
      close: async () => void closes++,
    }))
    let closes = 0
    const replica = replicaAt('edge-slow-end', await server.listen())
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000)
    const request = { sql: `SELECT n FROM logs LIMIT ${ROWS}`, paramTypes: [], params: [], paramFormats: [], resultFormats: [], settings: [] }
    const firstRowThenEnough = async (edgeLimit: number) => {
      const stream = new ShardStream({ shard: 's', replicas: [replica] }, request, pool, new SilenceWatch(30_000))
      assert.ok(await stream.next())
      stream.enough(edgeLimit)
      return stream
    }
    // All the rows its LIMIT allows are in, or not (the edge might still find more): either way
    // the edge ends its reply in time, and its connection is kept.
    for (const edgeLimit of [1, ROWS + 1]) {
      const stream = await firstRowThenEnough(edgeLimit)
      assert.equal(await stream.next(), null, 'the shard ends with its reply, its other rows dropped')
      const kept = pool.idle(replica)
      assert.ok(kept, 'its connection is back in the pool')
      pool.release(kept)
    }
    assert.equal(cancels, 0)
    // An edge that does not end its reply within DRAIN_MS is sent a cancel, which ends the shard;
    // one that does not confirm it (57014) within DRAIN_MS more loses its connection.
    hang = true
    const t0 = Date.now()
    const cut = await firstRowThenEnough(ROWS + 1)
    const closesBefore = closes
    await assert.rejects(cut.next(), (e: PgError) => e.code === SqlState.QueryCanceled)
    const ended = Date.now() - t0
    assert.ok(ended >= DRAIN_MS && ended < 2 * DRAIN_MS, `cut off after ${ended} ms`)
    await waitFor('the connection dropped', () => closes > closesBefore, 3 * DRAIN_MS)
    assert.ok(Date.now() - t0 >= 2 * DRAIN_MS, `dropped after ${Date.now() - t0} ms`)
    assert.equal(cancels, 1, 'the edge was sent a cancel')
    assert.equal(pool.idle(replica), undefined, 'the connection is dropped')
    pool.close()
    await server.close()
  })
})
