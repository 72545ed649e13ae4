/**
 * Statements the gateway keeps prepared on edge connections, against a native PostgreSQL edge:
 * planned for each execution's parameters, and prepared again when the edge's tables change
 * under them (an upgrade that adds columns).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeBackendMessage } from '../../common/pgwire/index.js'
import { failedAtBind } from '../../gateway/exec/bind-errors.js'
import { EdgePool } from '../../gateway/exec/edge-pool.js'
import type { EdgeRequest } from '../../gateway/exec/edge-statements.js'
import { ShardStream } from '../../gateway/exec/shard-stream.js'
import { SilenceWatch } from '../../gateway/exec/silence-watch.js'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'

describe('prepared statements on an edge', () => {
  let native: NativePg
  let pool: EdgePool
  before(async () => {
    native = await startNativePostgres()
    await native.pool().query('CREATE TABLE t (a int); INSERT INTO t VALUES (1)')
    pool = new EdgePool({ user: native.user, password: native.password, database: native.database }, 5000)
  })
  after(async () => {
    pool?.close()
    await native?.stop()
  })

  const rows = async (sql: string, params: string[] = []) => {
    const request: EdgeRequest = { sql, paramTypes: params.map(() => 0), params: params.map((p) => Buffer.from(p)), paramFormats: [], resultFormats: [], settings: [] }
    const replica = { edgeId: 'native', host: native.host, port: native.port, tls: false, database: native.database, shard: 'native', cluster: null, tags: [], schemaVersion: 1, status: 'passing', synopsis: null, synopsisCurrentAt: 0 } as const
    const stream = new ShardStream({ shard: 'native', replicas: [replica] }, request, pool, new SilenceWatch(5000))
    const out: (string | null)[][] = []
    for (let f = await stream.next(); f; f = await stream.next()) {
      const m = decodeBackendMessage(f)
      if (m.type === 'DataRow') out.push(m.values().map((v) => v?.toString() ?? null))
    }
    return out
  }

  test('a prepared statement is prepared again when the table it reads gains a column', async () => {
    for (let i = 0; i < 3; i++) assert.deepEqual(await rows('SELECT * FROM t'), [['1']])
    const prepared = await native.pool().query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'fedgres-gateway'")
    assert.equal(prepared.rows[0].n, 1, 'one pooled connection ran them')
    await native.pool().query('ALTER TABLE t ADD COLUMN b int DEFAULT 7')
    const altered = (await native.pool().query('SELECT clock_timestamp()::text AS at')).rows[0].at as string
    // PostgreSQL refuses the old plan (0A000, cached plan must not change result type).
    assert.deepEqual(await rows('SELECT * FROM t'), [['1', '7']])
    assert.deepEqual(await rows('SELECT * FROM t'), [['1', '7']])
    // It was prepared again (not given up on): the connection still keeps statements prepared.
    const again = await rows(`SELECT statement FROM pg_prepared_statements WHERE prepare_time > '${altered}' AND NOT from_sql`)
    assert.deepEqual(again, [['SELECT * FROM t']])
  })

  test('an edge error before the statement\'s BindComplete (a parameter\'s value) is known as a Bind error; one while running is not', async () => {
    const error = (sql: string, params: string[]) => rows(sql, params).then(() => assert.fail('no error'), (e: unknown) => e)
    for (let i = 0; i < 2; i++) {
      const bad = await error('SELECT a FROM t WHERE a = $1', ['5.0'])
      assert.equal((bad as { code?: string }).code, '22P02')
      assert.ok(failedAtBind(bad), 'a parameter that does not convert fails the Bind')
      const running = await error('SELECT a / (a - 1) FROM t WHERE a = $1', ['1'])
      assert.equal((running as { code?: string }).code, '22012')
      assert.ok(!failedAtBind(running), 'a division by zero fails the Execute')
    }
  })

  test('statements are planned for each execution (force_custom_plan), as unnamed ones are', async () => {
    assert.deepEqual(await rows("SELECT current_setting('plan_cache_mode')"), [['force_custom_plan']])
  })
})
