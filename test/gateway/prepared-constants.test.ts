/**
 * PostgreSQL reads a prepared statement's constants at Parse, under the settings of then. A named
 * statement run again after SET TimeZone (or DateStyle, IntervalStyle) must not read them under
 * the new settings: Fedgres refuses it (0A000) rather than answer otherwise.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { clientConfig, startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

const raw = { getTypeParser: () => (v: string) => v }

describe("a prepared statement's constants and clock words", () => {
  let gw: GatewayFixture | undefined
  let c: pg.Client
  before(async () => {
    gw = await startTestGateway()
    c = new pg.Client(clientConfig(gw))
    await c.connect()
  })
  after(async () => {
    await c?.end()
    await gw?.stop()
  })
  const run = async (name: string, text: string, values?: unknown[]) => (await c.query({ name, text, values, rowMode: 'array', types: raw })).rows[0] as string[]

  test('are not read again under another TimeZone, DateStyle or IntervalStyle: refused (0A000)', async () => {
    const lit = "SELECT '2026-10-01 10:00'::timestamptz AS t"
    assert.deepEqual(await run('lit', lit), ['2026-10-01 10:00:00+00'])
    const dmy = "SELECT '02/10/2026'::date AS d"
    assert.deepEqual(await run('dmy', dmy), ['2026-02-10'])
    await c.query("SET TimeZone = 'Asia/Tokyo'")
    // PostgreSQL answers 2026-10-01 19:00:00+09 (10:00 UTC, read at Parse); read now it would be 10:00 Tokyo.
    await assert.rejects(run('lit', lit), (e: { code?: string; message?: string }) => e.code === '0A000' && /prepared statement "lit" was prepared under other/.test(e.message ?? ''))
    await c.query("SET DateStyle = 'ISO, DMY'")
    await assert.rejects(run('dmy', dmy), (e: { code?: string }) => e.code === '0A000')
  })

  test('parameters and statements without string constants follow the current settings, as in PostgreSQL', async () => {
    await c.query('RESET ALL')
    const par = 'SELECT $1::timestamptz AS t, 1 + 1 AS n'
    assert.deepEqual(await run('par', par, ['2026-10-01 10:00']), ['2026-10-01 10:00:00+00', '2'])
    await c.query("SET TimeZone = 'Asia/Tokyo'")
    assert.deepEqual(await run('par', par, ['2026-10-01 10:00']), ['2026-10-01 10:00:00+09', '2'])
    const lit = "SELECT '2026-10-01 10:00'::timestamptz AS t2"
    assert.deepEqual(await run('lit2', lit), ['2026-10-01 10:00:00+09'])
    await c.query("SET TimeZone = 'UTC'")
    await c.query("SET TimeZone = 'Asia/Tokyo'")
    assert.deepEqual(await run('lit2', lit), ['2026-10-01 10:00:00+09'], 'the same settings again: runs')
    await c.query("SET extra_float_digits = 0")
    assert.deepEqual(await run('lit2', lit), ['2026-10-01 10:00:00+09'], 'a setting no constant is read by: runs')
    const words = "SELECT date_trunc('day', '2026-10-01 10:00+00'::timestamptz AT TIME ZONE 'UTC') AS d, 'File' AS w"
    assert.deepEqual(await run('words', words), ['2026-10-01 00:00:00', 'File'])
    await c.query("SET TimeZone = 'America/New_York'")
    await assert.rejects(run('words', words), (e: { code?: string }) => e.code === '0A000', 'a constant with digits is refused')
    const field = "SELECT date_trunc('day', $1::timestamptz) AS d, 'File' AS w"
    assert.deepEqual(await run('field', field, ['2026-10-01 10:00+00']), ['2026-10-01 00:00:00-04', 'File'])
    await c.query("SET TimeZone = 'Asia/Tokyo'")
    assert.deepEqual(await run('field', field, ['2026-10-01 10:00+00']), ['2026-10-01 00:00:00+09', 'File'], "constants no setting reads ('day', 'File'): runs")
  })

  // Its clock words are read once too.
  test("'now' is the transaction time at Parse, as PostgreSQL reads it once; now() is each execution's", async () => {
    const q = { name: 'clock', text: "SELECT 'now'::timestamptz = now() AS same, 'now'::timestamptz::text AS t", types: raw }
    const first = (await c.query(q)).rows[0]
    assert.equal(first.same, 't', 'parsed and run in one transaction: the same instant')
    await new Promise((r) => setTimeout(r, 20))
    const again = (await c.query(q)).rows[0]
    assert.equal(again.same, 'f', 'run in a later transaction: now() moved on, the constant did not')
    assert.equal(again.t, first.t)
    const simple = (await c.query({ text: "SELECT 'now'::timestamptz = now() AS same", types: raw })).rows[0]
    assert.equal(simple.same, 't')
  })
})
