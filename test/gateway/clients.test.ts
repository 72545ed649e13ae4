/**
 * Real clients against the gateway, over plain TCP and TLS: the same checks the harness passes
 * against native PostgreSQL 18 (test/clients/native-pg-clients.test.ts).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import {
  checkBinaryWire,
  checkGarbageStartup,
  checkJdbc,
  checkKysely,
  checkNodePg,
  checkOdbc,
  checkOversizedMessage,
  checkPsql,
  checkPsqlListDatabasesFails,
  checkPython,
  checkTruncatedMessage,
  checkUnknownMessageType,
  compileJdbcProbe,
  type ServerUnderTest,
} from '../clients/index.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

describe('real clients against the gateway', () => {
  let gw: GatewayFixture | undefined
  const server = (tls: boolean): ServerUnderTest => {
    assert.ok(gw, 'the gateway did not start')
    return { host: '127.0.0.1', port: gw.port, user: gw.user, password: gw.password, database: gw.database, tls }
  }
  const filter = process.env.CLIENT_FILTER

  before(async () => {
    const [, started] = await Promise.all([compileJdbcProbe(), startTestGateway()])
    gw = started
  })
  after(async () => {
    await gw?.stop()
  })

  const t = (name: string, fn: () => Promise<unknown>) =>
    test(name, { skip: filter !== undefined && !name.includes(filter) }, async () => {
      await fn()
    })

  for (const tls of [false, true]) {
    const mode = tls ? 'TLS' : 'plain TCP'
    t(`psql 15: \\conninfo \\dn \\dt \\d alerts \\d+ logs \\df \\x (${mode})`, () => checkPsql(server(tls)))
    t(`psql 15: \\l fails exactly as on PostgreSQL 18 (${mode})`, () => checkPsqlListDatabasesFails(server(tls)))
    t(`pgjdbc: metadata, server-prepared statement, fetch-size cursor, cancel (${mode})`, () => checkJdbc(server(tls)))
    t(`psqlODBC via isql, UseDeclareFetch=1: SQLTables, SQLColumns, queries (${mode})`, () => checkOdbc(server(tls)))
    t(`psycopg2 and SQLAlchemy: reflection, autoload, quoting, server-side cursor (${mode})`, () => checkPython(server(tls)))
    t(`node-postgres: parameters, text and binary results (${mode})`, () => checkNodePg(server(tls)))
    t(`binary result encodings byte for byte on a raw session (${mode})`, () => checkBinaryWire(server(tls)))
    t(`Kysely with PostgresDialect: a typed select (${mode})`, () => checkKysely(server(tls)))
  }

  t('bad input: garbage, truncated, unknown and oversized messages end only that connection', async () => {
    const srv = server(false)
    // A session that must survive every bad connection.
    const bystander = new pg.Client({ host: srv.host, port: srv.port, user: srv.user, password: srv.password, database: srv.database })
    await bystander.connect()
    await bystander.query('BEGIN')
    for (const check of [checkGarbageStartup, checkTruncatedMessage, checkUnknownMessageType, checkOversizedMessage]) {
      await check(srv)
      assert.equal((await bystander.query('select 41 + 1 as v')).rows[0].v, 42)
    }
    await bystander.query('COMMIT')
    await bystander.end()
  })
})
