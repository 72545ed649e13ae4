/** Settings given at startup (the StartupMessage's `options`) behave as PostgreSQL's do. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { clientConfig, startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

describe('startup settings', () => {
  let gw: GatewayFixture | undefined
  before(async () => {
    gw = await startTestGateway()
  })
  after(async () => {
    await gw?.stop()
  })
  const client = (options: string) => new pg.Client({ ...clientConfig(gw!), options })
  const show = async (c: pg.Client, name: string) => Object.values((await c.query(`SHOW ${name}`)).rows[0] as object)[0]

  test('a list value is read as a list; SET ... TO DEFAULT and SET TIME ZONE LOCAL go back to the startup value; fedgres.* settings count', async () => {
    const c = client('-c search_path=fedgres,public -c TimeZone=Asia/Tokyo -c fedgres.partial_results=on')
    await c.connect()
    try {
      assert.equal(await show(c, 'search_path'), 'fedgres,public')
      assert.equal((await c.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'alerts' AND relnamespace = 'public'::regnamespace")).rows[0].n, 1)
      assert.deepEqual((await c.query('SELECT pg_catalog.current_schemas(false)::text AS s')).rows[0].s, '{fedgres,public}')
      assert.equal(await show(c, 'fedgres.partial_results'), 'on')
      for (const back of ['SET TimeZone TO DEFAULT', 'SET TIME ZONE LOCAL', 'RESET TimeZone']) {
        await c.query("SET TimeZone = 'UTC'")
        await c.query(back)
        assert.equal(await show(c, 'TimeZone'), 'Asia/Tokyo', back)
      }
    } finally {
      await c.end()
    }
  })

  test('a parameter the client names itself wins over the same one in options; SET LOCAL ... TO DEFAULT is the startup value', async () => {
    const c = new pg.Client({ ...clientConfig(gw!), application_name: 'named', options: '-c application_name=from_options -c work_mem=5MB' })
    await c.connect()
    try {
      assert.equal(await show(c, 'application_name'), 'named')
      await c.query('BEGIN')
      await c.query("SET LOCAL work_mem = '1MB'")
      await c.query('SET LOCAL work_mem TO DEFAULT')
      assert.equal(await show(c, 'work_mem'), '5MB')
      await c.query('COMMIT')
    } finally {
      await c.end()
    }
  })

  test("a startup option the engine refuses fails the connection (FATAL), and no session runs in another's settings", async () => {
    const a = client('-c search_path=pg_catalog')
    await a.connect()
    try {
      await a.query("SET my.tenant = 'acme'")
      assert.equal(await show(a, 'my.tenant'), 'acme')
      await assert.rejects(client('-c nosuch_param=1').connect(), (e: { code?: string; severity?: string }) => e.code === '42704' && e.severity === 'FATAL')
      await assert.rejects(client('-c work_mem=bad').connect(), (e: { code?: string; severity?: string }) => e.code === '22023' && e.severity === 'FATAL')
      const b = client('-c TimeZone=UTC')
      await b.connect()
      const row = (await b.query("SELECT current_setting('my.tenant', true) AS t, current_setting('search_path') AS p")).rows[0] as { t: string | null; p: string }
      assert.notEqual(row.t, 'acme')
      assert.equal(row.p, '"$user", public')
      await b.end()
    } finally {
      await a.end()
    }
  })

  test('idle_session_timeout given at startup counts from the first ReadyForQuery', async () => {
    const c = client('-c idle_session_timeout=300')
    const errors: { code?: string }[] = []
    c.on('error', (e) => errors.push(e as { code?: string }))
    await c.connect()
    await new Promise((r) => setTimeout(r, 800))
    assert.ok(errors.some((e) => e.code === '57P05'), JSON.stringify(errors))
  })

  test('a setting Fedgres takes only at its default is refused at startup too (FATAL 0A000), as by SET', async () => {
    const c = client('-c standard_conforming_strings=off')
    await assert.rejects(c.connect(), (e: { code?: string; severity?: string }) => e.code === '0A000' && e.severity === 'FATAL')
  })
})
