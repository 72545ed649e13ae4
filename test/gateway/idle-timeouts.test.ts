/**
 * idle_in_transaction_session_timeout and idle_session_timeout end the session that waits too
 * long, with PostgreSQL's FATAL errors; the gateway keeps them itself, so the catalog engine all
 * sessions share never sees them (in it, such a limit ended the engine for every session).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { clientConfig, startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('idle timeouts', () => {
  let gw: GatewayFixture | undefined
  before(async () => {
    gw = await startTestGateway()
  })
  after(async () => {
    await gw?.stop()
  })
  const client = async (options?: string) => {
    const c = new pg.Client({ ...clientConfig(gw!), ...(options ? { options } : {}) })
    const errors: { code?: string; severity?: string }[] = []
    c.on('error', (e) => errors.push(e as { code?: string }))
    await c.connect()
    return { c, errors }
  }

  test('idle in a transaction block past idle_in_transaction_session_timeout: FATAL 25P03; outside a block it does not count', async () => {
    const { c, errors } = await client()
    await c.query("SET idle_in_transaction_session_timeout = '300ms'")
    await pause(500)
    assert.equal((await c.query('SELECT 1 AS x')).rows[0].x, 1, 'outside a block the session stays')
    await c.query('BEGIN')
    await c.query('SELECT 1')
    await pause(800)
    assert.ok(errors.some((e) => e.code === '25P03' && e.severity === 'FATAL'), JSON.stringify(errors))
    await assert.rejects(c.query('SELECT 2'))
  })

  test('idle past idle_session_timeout (given at startup): FATAL 57P05; the shared catalog engine goes on', async () => {
    const { c, errors } = await client('-c idle_session_timeout=300')
    await c.query('SELECT 1')
    await pause(800)
    assert.ok(errors.some((e) => e.code === '57P05' && e.severity === 'FATAL'), JSON.stringify(errors))
    const other = await client()
    assert.equal((await other.c.query("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'alerts'")).rows[0].n, 1)
    await other.c.end()
  })

  test('a value PostgreSQL would not take is 22023; set_config of these and transaction_timeout are refused (0A000)', async () => {
    const { c } = await client()
    await assert.rejects(c.query("SET idle_session_timeout = 'soon'"), (e: { code?: string }) => e.code === '22023')
    await assert.rejects(c.query("SELECT set_config('idle_session_timeout', '5', false)"), (e: { code?: string }) => e.code === '0A000')
    await assert.rejects(c.query("SET transaction_timeout = '1s'"), (e: { code?: string }) => e.code === '0A000')
    await c.query("SET transaction_timeout = 0")
    await c.query('RESET idle_session_timeout')
    await c.end()
  })
})
