/**
 * 'now', 'today', 'tomorrow' and 'yesterday' read as dates or times are the transaction's clock in
 * PostgreSQL, as now() is: every edge, and the gateway's own engines, must read the same instant.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { startOracleFederation, type OracleFederation } from '../helpers/oracle-federation.js'
import { clientConfig } from '../helpers/gateway-fixture.js'

const raw = { getTypeParser: () => (v: string) => v }
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('clock words in constants', () => {
  let fed: OracleFederation
  let gw: pg.Client
  let oracle: pg.Client
  before(async () => {
    fed = await startOracleFederation(2, 2000)
    gw = new pg.Client({ ...clientConfig(fed.gateway), types: raw })
    oracle = new pg.Client({ host: fed.oracle.host, port: fed.oracle.port, user: fed.oracle.user, password: fed.oracle.password, database: fed.oracle.database, types: raw })
    await Promise.all([gw.connect(), oracle.connect()])
  })
  after(async () => {
    await gw?.end()
    await oracle?.end()
    await fed?.stop()
  })
  const both = async (sql: string) => {
    const [a, b] = await Promise.all([gw.query({ text: sql, rowMode: 'array' }), oracle.query({ text: sql, rowMode: 'array' })])
    return [a.rows, b.rows]
  }

  test("agree with now() in every tier, as PostgreSQL's do", async () => {
    for (const sql of [
      "SELECT 'now'::timestamptz - now() AS d, count(*) FROM logs GROUP BY 1",
      "SELECT count(*) FROM logs WHERE 'now'::timestamptz = now() AND timestamp 'now' = localtimestamp",
      "SELECT count(*), 'now'::timestamptz = now(), 'today'::date = current_date, 'tomorrow'::timestamptz - current_date FROM alerts",
      "SELECT 'now'::timestamptz = now() AS same, 'yesterday'::date = current_date - 1 AS y",
      "SELECT host_name, row_number() OVER (ORDER BY host_name), 'now'::timestamptz = now() FROM (SELECT DISTINCT host_name FROM alerts) h ORDER BY 1",
    ]) {
      const [g, o] = await both(sql)
      assert.deepEqual(g, o, sql)
    }
  })

  test('in a transaction: the transaction start, under the session TimeZone', async () => {
    await Promise.all([gw.query("SET TimeZone = 'Pacific/Kiritimati'"), oracle.query("SET TimeZone = 'Pacific/Kiritimati'")])
    await Promise.all([gw.query('BEGIN'), oracle.query('BEGIN')])
    await pause(20)
    const [g, o] = await both("SELECT 'now'::timestamptz = now(), 'now'::date = current_date, 'today'::timestamp = current_date::timestamp, count(*) FROM logs")
    await Promise.all([gw.query('COMMIT'), oracle.query('COMMIT')])
    assert.deepEqual(g, o)
  })

  test('in a prepared statement: read at Parse, as PostgreSQL reads them once', async () => {
    const q = { name: 'words', text: "SELECT 'now'::timestamptz = now() AS same, count(*) FROM logs", rowMode: 'array' as const }
    for (let i = 0; i < 2; i++) {
      const [g, o] = await Promise.all([gw.query(q), oracle.query(q)])
      assert.deepEqual(g.rows, o.rows, `execution ${i + 1}`)
      await pause(20)
    }
  })
})
