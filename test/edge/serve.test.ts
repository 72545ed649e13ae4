/**
 * The edge's query endpoint: gateways only (SCRAM), one read-only statement per batch, no state
 * left between callers, and ingestion flowing while queries run.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import pg from 'pg'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { tempDir } from '../helpers/temp-dir.js'
import { EdgeConnection } from '../../gateway/exec/edge-connection.js'
import { FrontendEncoder, decodeBackendMessage } from '../../common/pgwire/index.js'
import { waitFor } from '../helpers/wait.js'

describe('edge query endpoint', () => {
  const dir = tempDir('fedgres-serve-')
  let src: KubeArmorEventSource
  let edge: RunningEdge
  const connect = (user = 'gw', password = 'gw-secret') => {
    const c = new pg.Client({ host: '127.0.0.1', port: edge.servePort, user, password, database: 'fedgres' })
    return c.connect().then(() => c)
  }
  after(async () => {
    await edge?.stop()
    await src?.stop()
    dir.dispose()
  })

  test('ingestion keeps flowing, losing nothing, while gateways query', async () => {
    const total = 8000
    src = new KubeArmorEventSource({ hosts: ['serve-host'], rate: 0, port: 0, limit: total })
    await src.start()
    edge = await startEdge(edgeConfig(dir.path, [src.address], { edge_id: 'serve-edge', serve: { host: '127.0.0.1', port: 0, users: [{ name: 'gw', scram: makeScramSecret('gw-secret') }] } }), rootLogger('test', 'error'))
    await waitFor('subscribed', () => src.subscribers('logs') > 0 && src.subscribers('alerts') > 0)
    src.setRate(2000)
    const c = await connect()
    let queries = 0
    let last = 0
    const stored = async () => Number((await c.query('SELECT (SELECT count(*) FROM logs) + (SELECT count(*) FROM alerts) AS n')).rows[0].n)
    while (last < total) {
      // A heavier statement and a count, back to back, for the whole ingest.
      await c.query('SELECT process_name, count(DISTINCT pid), max(time) FROM logs GROUP BY 1')
      const n = await stored()
      assert.ok(n >= last, 'committed rows never go backwards')
      last = n
      queries += 2
      if (src.stats.generated >= total && queries > 2000) break
    }
    await waitFor('all stored', async () => (await stored()) === total, 30_000, 100)
    assert.equal(src.stats.dropped, 0, 'KubeArmor dropped no event for the edge')
    assert.ok(queries >= 10, `ran ${queries} queries during ingest`)
    await c.end()
  })

  test('planner statistics are gathered as events are committed (PGlite has no autovacuum)', async () => {
    const store = edge.agent.store
    const q = async <T>(sql: string) => (await store.query<T>(sql))[0]!
    // The ingest above committed 8,000 events: the day partitions and the parents are analyzed.
    await waitFor('statistics gathered', async () => {
      const parts = await q<{ never: string }>(`SELECT count(*) FILTER (WHERE c.reltuples < 0) AS never FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'fedgres_parts' AND c.relkind = 'r'`)
      const parents = await q<{ n: string }>(`SELECT count(DISTINCT tablename) AS n FROM pg_stats WHERE schemaname = 'public' AND tablename IN ('alerts', 'logs') AND inherited`)
      return Number(parts.never) === 0 && Number(parents.n) === 2
    }, 20_000, 200)
    // So the planner's estimate for a filter is close to the truth, not a default guess.
    const top = await q<{ process_name: string; n: string }>('SELECT process_name, count(*) AS n FROM logs GROUP BY 1 ORDER BY 2 DESC LIMIT 1')
    const plan = await q<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) SELECT * FROM logs WHERE process_name = '${top.process_name.replace(/'/g, "''")}'`)
    const estimate = plan['QUERY PLAN'][0].Plan['Plan Rows']
    const actual = Number(top.n)
    assert.ok(estimate > actual / 2 && estimate < actual * 2, `estimated ${estimate} rows, ${actual} match`)
  })

  test('only configured gateways log in; unknown users and wrong passwords get 28P01', async () => {
    await assert.rejects(connect('gw', 'wrong'), (e: Error & { code?: string }) => e.code === '28P01')
    await assert.rejects(connect('analyst', 'gw-secret'), (e: Error & { code?: string }) => e.code === '28P01')
  })

  test('nothing a caller does outlives its statement: settings roll back, writes and named statements are refused', async () => {
    const c = await connect()
    assert.equal((await c.query("SELECT set_config('TimeZone', 'Asia/Tokyo', true) AS tz")).rows[0].tz, 'Asia/Tokyo')
    assert.equal((await c.query("SELECT current_setting('TimeZone') AS tz")).rows[0].tz, 'UTC')
    await assert.rejects(c.query('DELETE FROM logs'), (e: Error & { code?: string }) => e.code === '42501')
    await assert.rejects(c.query("SELECT set_config('TimeZone', 'UTC', false)"), (e: Error & { code?: string }) => e.code === '42501')
    assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1)
    await c.end()
  })

  test("named statements are the connection's own: prepared once, invisible to other callers, deallocated at close", async () => {
    const a = await connect()
    const b = await connect()
    const prepared = async () => Number((await edge.agent.store.query<{ n: string }>("SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE '%\\_kept'"))[0]!.n)
    // node-postgres parses a named statement once per connection, then only binds and executes it.
    for (let i = 0; i < 3; i++) assert.equal((await a.query({ name: 'kept', text: 'SELECT count(*) > 0 AS any FROM logs' })).rows[0].any, true)
    // The same name on another connection is another statement.
    assert.equal((await b.query({ name: 'kept', text: "SELECT 'b' AS who" })).rows[0].who, 'b')
    assert.equal((await a.query({ name: 'kept', text: 'SELECT count(*) > 0 AS any FROM logs' })).rows[0].any, true)
    assert.equal(await prepared(), 2)
    // A name no Parse of this connection made does not exist here, whoever prepared it.
    const raw = await EdgeConnection.connect({ edgeId: 'serve-edge', host: '127.0.0.1', port: edge.servePort, tls: false }, { user: 'gw', password: 'gw-secret', database: 'fedgres' }, 5000)
    const frames = async (conn: EdgeConnection, bytes: Buffer) => {
      const out: string[] = []
      await conn.run(bytes, (f) => {
        const m = decodeBackendMessage(f)
        if (m.type === 'ErrorResponse') out.push(`${m.fields.code} ${m.fields.message}`)
        if (m.type === 'DataRow') out.push(...m.values().map((v) => v?.toString() ?? 'NULL'))
      })
      return out
    }
    assert.deepEqual(await frames(raw, new FrontendEncoder().bind('', 'kept', [], [], []).execute('', 0).sync().take()), ['26000 prepared statement "kept" does not exist'])
    // The store's unnamed statement is shared: a connection may bind only the one it parsed in
    // the same batch, never one another connection left there.
    const other = await EdgeConnection.connect({ edgeId: 'serve-edge', host: '127.0.0.1', port: edge.servePort, tls: false }, { user: 'gw', password: 'gw-secret', database: 'fedgres' }, 5000)
    assert.deepEqual(await frames(raw, new FrontendEncoder().parse('', 'SELECT 1').query('SELECT 2').take()), ['2'])
    assert.deepEqual(await frames(other, new FrontendEncoder().parse('', "SELECT 'other'").sync().take()), [])
    assert.deepEqual(await frames(raw, new FrontendEncoder().bind('', '', [], [], []).execute('', 0).sync().take()), ['26000 unnamed prepared statement does not exist'])
    other.close()
    raw.close()
    await a.end()
    await b.end()
    await waitFor('statements deallocated', async () => (await prepared()) === 0, 5000, 50)
  })

  test('a gateway opens a connection with its output settings: checked, reported and set in every batch, never beyond', async () => {
    const address = { edgeId: 'serve-edge', host: '127.0.0.1', port: edge.servePort, tls: false }
    const login = { user: 'gw', password: 'gw-secret', database: 'fedgres' }
    const settings = [['TimeZone', 'Asia/Tokyo'], ['DateStyle', 'SQL, DMY'], ['IntervalStyle', 'iso_8601'], ['extra_float_digits', '1']] as const
    const conn = await EdgeConnection.connect(address, login, 5000, undefined, settings)
    assert.equal(conn.settingsConfirmed, true, 'the edge reported the settings it was asked for (as PostgreSQL reports them)')
    const texts = async (sql: string) => {
      const out: string[] = []
      await conn.run(new FrontendEncoder().query(sql).take(), (f) => {
        const m = decodeBackendMessage(f)
        if (m.type === 'DataRow') out.push(...m.values().map((v) => v?.toString() ?? 'NULL'))
      })
      return out
    }
    // Both batches see the settings: each is its own transaction, and each sets them anew.
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await texts("SELECT TIMESTAMPTZ '2026-01-02 03:04:05+00'::text, interval '1 day 2 hours'::text, current_setting('extra_float_digits')"), ['02/01/2026 12:04:05 JST', 'P1DT2H', '1'])
    }
    // Prepared statements are planned for each execution's parameters, as on a native edge.
    assert.deepEqual(await texts("SELECT current_setting('plan_cache_mode')"), ['force_custom_plan'])
    conn.close()
    // Another caller's connection has the edge's own settings: nothing outlived that connection's batches.
    const c = await connect()
    assert.equal((await c.query("SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds")).rows[0].tz, 'UTC')
    await c.end()
    // A value PostgreSQL would refuse at startup is refused at startup.
    await assert.rejects(EdgeConnection.connect(address, login, 5000, undefined, [['TimeZone', 'Mars/Olympus_Mons']]), /22023 invalid value for parameter "TimeZone"/)
  })

  test('while a long statement holds the store, a gateway still connects at once; its statement waits its turn', async () => {
    const address = { edgeId: 'serve-edge', host: '127.0.0.1', port: edge.servePort, tls: false }
    const login = { user: 'gw', password: 'gw-secret', database: 'fedgres' }
    const settings = [['TimeZone', 'Asia/Tokyo'], ['DateStyle', 'SQL, DMY']] as const
    ;(await EdgeConnection.connect(address, login, 5000, undefined, settings)).close()
    const c = await connect()
    const t0 = Date.now()
    // Seconds of work under the store's mutex (a PGlite statement cannot be interrupted).
    const long = c.query('SELECT count(*) FROM logs a, logs b WHERE a.pid + b.pid = -1')
    await new Promise((r) => setTimeout(r, 200))
    // Connecting took the mutex too (to check the settings): it waited out the whole statement,
    // and a gateway's connect timeout (5 s) made that "could not connect to edge".
    const conn = await EdgeConnection.connect(address, login, 1000, undefined, settings)
    const connectedAt = Date.now() - t0
    let rows = 0
    await conn.run(new FrontendEncoder().query('SELECT 1').take(), (f) => void (f[0] === 0x44 && rows++))
    const answeredAt = Date.now() - t0
    await long
    const longMs = Date.now() - t0
    assert.equal(rows, 1)
    assert.ok(longMs > 1000 && connectedAt < longMs - 500, `connected after ${connectedAt} ms of the long statement's ${longMs} ms`)
    assert.ok(answeredAt >= longMs - 100, `the statement waited its turn (answered at ${answeredAt} ms)`)
    conn.close()
    await c.end()
  })
  test('a reply a gateway reads slowly waits on disk, not in memory; the edge keeps answering; every row arrives', async () => {
    // The store runs a statement to its end (PGlite cannot pause mid-statement), so a reply the
    // gateway has not read yet must wait somewhere. Held in memory, 500,000 rows took ~550 MB.
    const rows = 500_000
    const slow = await connect()
    const other = await connect()
    global.gc?.()
    const before = process.memoryUsage().arrayBuffers
    const reply = slow.query({ text: `SELECT a.*, b.time AS t2 FROM logs a, logs b LIMIT ${rows}`, rowMode: 'array' })
    // Stop reading once the statement is sent.
    await new Promise((r) => setImmediate(r))
    ;(slow as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream.pause()
    // The store serves one statement at a time: this answers once the big one is made, whole.
    assert.equal((await other.query('SELECT count(*)::int AS n FROM alerts')).rows.length, 1)
    const held = process.memoryUsage().arrayBuffers - before
    assert.ok(held < 64 * 1024 * 1024, `the edge held ${(held / 1048576).toFixed(0)} MB of an unread reply`)
    ;(slow as unknown as { connection: { stream: { resume(): void } } }).connection.stream.resume()
    const r = await reply
    assert.equal(r.rows.length, rows)
    // Every row whole: all columns of logs, then the second time (a wire frame out of order would fail the parse).
    assert.ok((r.rows as unknown[][]).every((x) => x.length === r.fields.length && x.at(-1) instanceof Date))
    await slow.end()
    await other.end()
  })
})
