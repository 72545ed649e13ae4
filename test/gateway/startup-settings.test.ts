/** Settings given at startup (the StartupMessage's `options`) behave as PostgreSQL's do. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

describe('startup settings', () => {
  let gw: GatewayFixture | undefined
  before(async () => {
    gw = await startTestGateway()
  })
  after(async () => {
    await gw?.stop()
  })
  const client = (options: string) => new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database, options })
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

  test('a setting Fedgres takes only at its default is refused at startup too (FATAL 0A000), as by SET', async () => {
    const c = client('-c standard_conforming_strings=off')
    await assert.rejects(c.connect(), (e: { code?: string; severity?: string }) => e.code === '0A000' && e.severity === 'FATAL')
  })
})
