/**
 * now() is the transaction's start and statement_timestamp() the statement's, as in PostgreSQL,
 * in statements the gateway's catalog engine answers (shared by every session, whose own now()
 * is the time of each statement it runs).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { clientConfig, startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

const raw = { getTypeParser: () => (v: string) => v }
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("the session's clock", () => {
  let gw: GatewayFixture | undefined
  let c: pg.Client
  before(async () => {
    gw = await startTestGateway()
    c = new pg.Client(clientConfig(gw))
    await c.connect()
    await c.query("SET TimeZone = 'UTC'")
  })
  after(async () => {
    await c?.end()
    await gw?.stop()
  })
  const times = async () => (await c.query({ text: 'SELECT now(), statement_timestamp() AS st, CURRENT_TIMESTAMP, transaction_timestamp()', types: raw })).rows[0] as Record<string, string>

  test('in a transaction, now() stays the transaction start while statement_timestamp() moves', async () => {
    await c.query('BEGIN')
    const a = await times()
    await pause(5)
    const b = await times()
    await c.query('COMMIT')
    assert.equal(a.now, b.now)
    assert.equal(a.current_timestamp, a.now)
    assert.equal(a.transaction_timestamp, a.now)
    assert.notEqual(a.st, b.st)
    assert.ok(b.st! > b.now!, `${b.st} after ${b.now}`)
  })

  test('outside a transaction each statement has its own; several in one Query share one', async () => {
    const a = await times()
    await pause(5)
    const b = await times()
    assert.notEqual(a.now, b.now)
    assert.equal(a.now, a.st)
    const [x, y] = (await c.query({ text: 'SELECT now()::text AS t; SELECT now()::text AS t', types: raw })) as unknown as pg.QueryResult[]
    assert.equal(x!.rows[0].t, y!.rows[0].t)
  })

  test('targets keep the names PostgreSQL gives them, in subqueries too', async () => {
    const r = await c.query('SELECT now(), current_date, localtimestamp, now() - interval \'1 hour\', s.now AS inner_now FROM (SELECT now()) s')
    assert.deepEqual(r.fields.map((f) => f.name), ['now', 'current_date', 'localtimestamp', '?column?', 'inner_now'])
    assert.deepEqual(r.fields.map((f) => f.dataTypeID), [1184, 1082, 1114, 1184, 1184])
    assert.equal(String(r.rows[0].now), String(r.rows[0].inner_now))
  })
})
