/** Fedgres is read-only (25006, with a message that says so), and a CancelRequest stops a statement with 57014. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import pg from 'pg'
import { ABANDON_GRACE_MS } from '../../gateway/catalog/shadow.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

/** A CancelRequest on its own connection, encoded here (not with the product's encoder). */
function sendCancel(port: number, processID: number, secretKey: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      const b = Buffer.alloc(16)
      b.writeInt32BE(16, 0)
      b.writeInt32BE(80877102, 4)
      b.writeInt32BE(processID, 8)
      b.writeInt32BE(secretKey, 12)
      s.end(b)
    })
    s.on('close', () => resolve())
    s.on('error', reject)
  })
}

describe('read-only and cancel', () => {
  let gw: GatewayFixture | undefined
  before(async () => {
    gw = await startTestGateway()
  })
  after(async () => {
    await gw?.stop()
  })
  const client = async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database })
    await c.connect()
    return c
  }

  const WRITES = [
    ["INSERT INTO alerts (time, edge_id) VALUES (now(), 'x')", 'INSERT'],
    ['UPDATE logs SET pid = 1', 'UPDATE'],
    ['DELETE FROM alerts', 'DELETE'],
    ['CREATE TABLE t (x int)', 'CREATE TABLE'],
    ['DROP TABLE alerts', 'DROP'],
    ['TRUNCATE logs', 'TRUNCATE'],
    ['COPY alerts FROM STDIN', 'COPY FROM'],
    ['WITH x AS (DELETE FROM logs RETURNING 1) SELECT * FROM x', 'DELETE'],
    ['SELECT * FROM alerts FOR UPDATE', 'SELECT FOR UPDATE'],
    ['SELECT * FROM alerts FOR SHARE SKIP LOCKED', 'SELECT FOR SHARE'],
    ['SELECT * FROM alerts a FOR NO KEY UPDATE OF a', 'SELECT FOR NO KEY UPDATE'],
    // Tableau's capability probes: a clean error disables the capability.
    ['SELECT * INTO TEMPORARY TABLE "#Tableau_7_1_Connect_CheckSelectIntoCap" FROM (SELECT 1 AS COL) AS CHECKTEMP', 'SELECT INTO'],
    ['CREATE LOCAL TEMPORARY TABLE "#Tableau_7_2_Connect_CheckCreateTempTableCap" ( "COL" INTEGER ) ON COMMIT PRESERVE ROWS', 'CREATE TABLE'],
    ["GRANT SELECT ON alerts TO public", 'GRANT'],
  ] as const

  for (const [sql, command] of WRITES) {
    test(`${command} is refused with 25006 and the session goes on: ${sql.slice(0, 60)}`, async () => {
      const c = await client()
      try {
        await assert.rejects(c.query(sql), (e: pg.DatabaseError) => {
          assert.equal(e.code, '25006')
          assert.equal(e.message, `cannot execute ${command}: Fedgres is read-only`)
          return true
        })
        assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1)
      } finally {
        await c.end()
      }
    })
  }

  test('a locking clause PostgreSQL refuses while analysing the query is 0A000 as there, not 25006', async () => {
    const c = await client()
    try {
      for (const [sql, message] of [
        ['SELECT count(*) FROM alerts FOR SHARE', 'FOR SHARE is not allowed with aggregate functions'],
        ['SELECT host_name FROM alerts GROUP BY 1 FOR UPDATE', 'FOR UPDATE is not allowed with GROUP BY clause'],
        ['SELECT DISTINCT host_name FROM alerts FOR KEY SHARE', 'FOR KEY SHARE is not allowed with DISTINCT clause'],
        ['SELECT 1 UNION SELECT 2 FOR UPDATE', 'FOR UPDATE is not allowed with UNION/INTERSECT/EXCEPT'],
      ] as const) {
        await assert.rejects(c.query(sql), (e: pg.DatabaseError) => e.code === '0A000' && e.message === message, sql)
      }
    } finally {
      await c.end()
    }
  })

  test('writes hidden in functions are refused by the read-only shadow', async () => {
    const c = await client()
    try {
      for (const sql of [
        "SELECT pg_catalog.set_config('role', 'postgres', false)",
        "SELECT set_config('session_authorization', 'postgres', false)",
        "SELECT set_config(n, 'postgres', false) FROM (VALUES ('session_authorization')) v(n)",
      ]) {
        await assert.rejects(c.query(sql), (e: pg.DatabaseError) => e.code === '42501' || e.code === '0A000', sql)
      }
      const r = await c.query('SELECT current_user AS u, pg_catalog.current_setting($1) AS ro', ['transaction_read_only'])
      assert.deepEqual(r.rows[0], { u: 'analyst', ro: 'on' })
      await assert.rejects(c.query('SET ROLE postgres'), (e: pg.DatabaseError) => e.code === '42501')
      await assert.rejects(c.query("SELECT pg_catalog.pg_read_file('PG_VERSION')"), (e: pg.DatabaseError) => e.code === '42501')
    } finally {
      await c.end()
    }
  })

  test('a CancelRequest ends the running statement with 57014; other sessions are not disturbed', async () => {
    const victim = await client()
    const other = await client()
    try {
      const { processID, secretKey } = victim as unknown as { processID: number; secretKey: number }
      const started = Date.now()
      const sleeping = victim.query('SELECT pg_sleep(30)').then(() => assert.fail('not cancelled'), (e: unknown) => Promise.reject(e))
      sleeping.catch(() => {}) // asserted below
      await new Promise((r) => setTimeout(r, 300))
      await sendCancel(gw!.port, processID, secretKey)
      await assert.rejects(sleeping, (e: pg.DatabaseError) => {
        assert.equal(e.code, '57014')
        assert.equal(e.message, 'canceling statement due to user request')
        return true
      })
      assert.ok(Date.now() - started < 10_000, 'the cancel took effect promptly')
      assert.equal((await victim.query('SELECT 41 + 1 AS v')).rows[0].v, 42, 'the cancelled session still works')
      assert.equal((await other.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'alerts'")).rows[0].n, 1)
    } finally {
      await victim.end()
      await other.end()
    }
  })

  test('statements of other sessions waiting behind a cancelled one run, each once, on the fresh catalog engine', async () => {
    const victim = await client()
    const others = await Promise.all([client(), client(), client(), client(), client()])
    try {
      const { processID, secretKey } = victim as unknown as { processID: number; secretKey: number }
      const sleeping = victim.query('SELECT pg_sleep(30)')
      sleeping.catch(() => {})
      await new Promise((r) => setTimeout(r, 200))
      // Five statements from other sessions queue behind the sleep (some already handed to the engine).
      const waiting = others.map((c, i) => c.query(`SELECT ${i} AS i, (SELECT count(*)::int FROM pg_class WHERE relname IN ('alerts', 'logs')) AS n`))
      await new Promise((r) => setTimeout(r, 200))
      await sendCancel(gw!.port, processID, secretKey)
      await assert.rejects(sleeping, (e: pg.DatabaseError) => e.code === '57014')
      const results = await Promise.all(waiting)
      assert.deepEqual(results.map((r) => r.rows[0]), [0, 1, 2, 3, 4].map((i) => ({ i, n: 2 })))
    } finally {
      await victim.end()
      for (const c of others) await c.end()
    }
  })

  test('a cancelled catalog statement that ends within the grace is answered at once and restarts nothing; its SET does not stick', async () => {
    const c = await client()
    const other = await client()
    try {
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number }
      const restarts = gw!.gateway.shadow.restarts
      const before = (await c.query('SHOW application_name')).rows[0].application_name
      // The set_config runs before the sleep: the engine holds the new value when the cancel comes.
      const running = c.query(`SELECT pg_catalog.set_config('application_name', 'abandoned', false), pg_sleep(${ABANDON_GRACE_MS / 2000})`)
      running.catch(() => {})
      await new Promise((r) => setTimeout(r, 100))
      const cancelledAt = Date.now()
      await sendCancel(gw!.port, processID, secretKey)
      await assert.rejects(running, (e: pg.DatabaseError) => e.code === '57014' && e.message === 'canceling statement due to user request')
      assert.ok(Date.now() - cancelledAt < ABANDON_GRACE_MS / 4, `answered ${Date.now() - cancelledAt} ms after the cancel, not when the statement ended`)
      // The statement was cancelled, so its setting is not the session's (as in PostgreSQL).
      assert.equal((await c.query('SHOW application_name')).rows[0].application_name, before)
      assert.equal((await other.query('SELECT 2 AS v')).rows[0].v, 2)
      assert.equal(gw!.gateway.shadow.restarts, restarts, 'the catalog engine was not restarted')
    } finally {
      await c.end()
      await other.end()
    }
  })

  test('statement_timeout ends a catalog statement when it runs out, not when the statement ends; the engine restarts only past the grace', async () => {
    const c = await client()
    try {
      const restarts = gw!.gateway.shadow.restarts
      await c.query("SET statement_timeout = '150ms'")
      let started = Date.now()
      await assert.rejects(c.query(`SELECT pg_sleep(${ABANDON_GRACE_MS / 2000})`), (e: pg.DatabaseError) => e.code === '57014' && e.message === 'canceling statement due to statement timeout')
      assert.ok(Date.now() - started < ABANDON_GRACE_MS / 2, `timed out after ${Date.now() - started} ms`)
      assert.equal((await c.query('SELECT 3 AS v')).rows[0].v, 3)
      assert.equal(gw!.gateway.shadow.restarts, restarts, 'a statement done within the grace restarts nothing')
      started = Date.now()
      await assert.rejects(c.query('SELECT pg_sleep(30)'), (e: pg.DatabaseError) => e.code === '57014')
      assert.ok(Date.now() - started < ABANDON_GRACE_MS / 2, `timed out after ${Date.now() - started} ms`)
      await c.query('RESET statement_timeout')
      assert.equal((await c.query('SELECT 4 AS v')).rows[0].v, 4, 'answered on the fresh engine')
      assert.equal(gw!.gateway.shadow.restarts, restarts + 1, 'a statement still running after the grace restarts the engine')
    } finally {
      await c.end()
    }
  })

  test('statement_timeout does not count session commands: under a 1 ms limit SHOW, SET, BEGIN and RESET run while the engine is busy, in both protocols', async () => {
    const c = await client()
    const busy = await client()
    try {
      await c.query("SET statement_timeout = '1ms'")
      // Another session holds the catalog engine: each command here waits for it far past 1 ms.
      const hold = () => busy.query('SELECT pg_sleep(0.3)')
      let held = hold()
      assert.equal((await c.query('SHOW statement_timeout')).rows[0].statement_timeout, '1ms')
      await held
      held = hold()
      assert.equal((await c.query({ name: 'show-timeout', text: 'SHOW statement_timeout' })).rows[0].statement_timeout, '1ms')
      await c.query('BEGIN')
      await c.query('COMMIT')
      await c.query("SET statement_timeout = '5ms'")
      await held
      held = hold()
      await c.query('RESET statement_timeout')
      await held
      assert.equal((await c.query('SHOW statement_timeout')).rows[0].statement_timeout, '0')
      // A statement that does work is still counted.
      await c.query("SET statement_timeout = '50ms'")
      await assert.rejects(c.query('SELECT pg_sleep(1)'), (e: pg.DatabaseError) => e.code === '57014')
      await c.query('RESET statement_timeout')
    } finally {
      await c.end()
      await busy.end()
    }
  })

  test('a cancel in a transaction block that SET a reported parameter is answered at once, its ParameterStatus undone without waiting for the engine', async () => {
    const c = await client()
    try {
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number }
      const statuses: string[] = []
      ;(c as unknown as { connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void } }).connection.on('parameterStatus', (m) => statuses.push(`${m.parameterName}=${m.parameterValue}`))
      await c.query('BEGIN')
      await c.query("SET LOCAL DateStyle = 'German'")
      const running = c.query('SELECT pg_sleep(30)')
      running.catch(() => {})
      await new Promise((r) => setTimeout(r, 100))
      const cancelledAt = Date.now()
      await sendCancel(gw!.port, processID, secretKey)
      await assert.rejects(running, (e: pg.DatabaseError) => e.code === '57014')
      assert.ok(Date.now() - cancelledAt < ABANDON_GRACE_MS / 2, `answered ${Date.now() - cancelledAt} ms after the cancel`)
      assert.deepEqual(statuses, ['DateStyle=German, DMY', 'DateStyle=ISO, MDY'], 'the aborted block undid its DateStyle before ReadyForQuery')
      await c.query('ROLLBACK')
      assert.equal((await c.query('SHOW DateStyle')).rows[0].DateStyle, 'ISO, MDY')
    } finally {
      await c.end()
    }
  })

  test('a cancel with the wrong secret does nothing', async () => {
    const c = await client()
    try {
      const { processID } = c as unknown as { processID: number }
      const running = c.query('SELECT pg_sleep(0.5) AS s')
      await sendCancel(gw!.port, processID, 12345)
      assert.equal((await running).rowCount, 1)
    } finally {
      await c.end()
    }
  })

  test('a wrong password and an unknown user fail like PostgreSQL (28P01), an unknown database with 3D000', async () => {
    const bad = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: 'wrong', database: gw!.database })
    await assert.rejects(bad.connect(), (e: pg.DatabaseError) => e.code === '28P01' && e.message === `password authentication failed for user "${gw!.user}"`)
    const nobody = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: 'nobody', password: 'x', database: gw!.database })
    await assert.rejects(nobody.connect(), (e: pg.DatabaseError) => e.code === '28P01')
    const db = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: 'postgres' })
    await assert.rejects(db.connect(), (e: pg.DatabaseError) => e.code === '3D000' && e.message === 'database "postgres" does not exist')
  })
})

test("the local engine's own limit (catalog.statement_timeout) ends a statement with 57014 that names it, not the session's statement_timeout", async () => {
  const gw = await startTestGateway({ catalog: { statement_timeout: 300 } })
  const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: gw.user, password: gw.password, database: gw.database })
  try {
    await c.connect()
    await assert.rejects(c.query('SELECT pg_sleep(5)'), (e: pg.DatabaseError) => {
      assert.equal(e.code, '57014')
      assert.equal(e.message, "canceling statement: the gateway's local engine ran it for longer than its limit of 300 ms")
      assert.match(e.hint ?? '', /catalog\.statement_timeout/)
      return true
    })
    assert.equal((await c.query('SELECT 5 AS v')).rows[0].v, 5, 'answered on the fresh engine')
  } finally {
    await c.end()
    await gw.stop()
  }
})
