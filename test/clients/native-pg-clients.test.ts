/**
 * Proves the client harness against the real thing: every client check must pass against
 * native PostgreSQL 18.4 holding the Fedgres schema, over plain TCP and over TLS. The gateway
 * suite runs the same checks against the gateway.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'
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
  RawSession,
  type ServerUnderTest,
} from './index.js'

describe('client harness against native PostgreSQL 18.4', () => {
  let native: NativePg | undefined
  const server = (tls: boolean): ServerUnderTest => {
    assert.ok(native, 'native PostgreSQL did not start')
    return { host: native.host, port: native.port, user: native.user, password: native.password, database: native.database, tls }
  }

  before(async () => {
    // javac and initdb overlap: the two slowest steps of the suite.
    const [, started] = await Promise.all([compileJdbcProbe(), startNativePostgres({ schema: true, tls: true })])
    native = started
  })
  after(async () => {
    await native?.stop()
  })

  test('the native cluster is PostgreSQL 18.4 with UTF8, collation C, SCRAM-SHA-256 and TLS', async () => {
    const res = await native!.pool().query<Record<string, string>>(
      `select current_setting('server_version') as version, current_setting('server_encoding') as encoding,
              datcollate, datctype, current_setting('password_encryption') as pw, current_setting('ssl') as ssl
         from pg_database where datname = current_database()`,
    )
    assert.deepEqual(res.rows[0], { version: '18.4', encoding: 'UTF8', datcollate: 'C', datctype: 'C.UTF-8', pw: 'scram-sha-256', ssl: 'on' })
    // RawSession logs in with SCRAM only if the server asks for it; check it really did.
    const session = await RawSession.login(server(false))
    const hba = await session.query(`select auth_method from pg_hba_file_rules where type = 'host'`)
    session.close()
    assert.ok(hba.rows.length > 0 && hba.rows.every(([m]) => m === 'scram-sha-256'), JSON.stringify(hba.rows))
  })

  for (const tls of [false, true]) {
    const mode = tls ? 'TLS' : 'plain TCP'
    test(`psql 15: \\conninfo \\dn \\dt \\d alerts \\d+ logs \\df \\x (${mode})`, async () => {
      await checkPsql(server(tls))
    })
    test(`psql 15: \\l fails with "column d.daticulocale does not exist" (${mode})`, async () => {
      await checkPsqlListDatabasesFails(server(tls))
    })
    test(`pgjdbc: metadata, server-prepared statement, fetch-size cursor, cancel (${mode})`, async () => {
      const report = await checkJdbc(server(tls))
      assert.equal(report.checks.connect?.version, '18.4')
    })
    test(`psqlODBC via isql, UseDeclareFetch=1: SQLTables, SQLColumns, queries (${mode})`, async () => {
      await checkOdbc(server(tls))
    })
    test(`psycopg2 and SQLAlchemy: reflection, autoload, quoting, server-side cursor (${mode})`, async () => {
      await checkPython(server(tls))
    })
    test(`node-postgres: parameters, text and binary results (${mode})`, async () => {
      const report = await checkNodePg(server(tls))
      assert.equal(report.serverVersion, '18.4')
    })
    test(`binary result encodings byte for byte on a raw session (${mode})`, async () => {
      await checkBinaryWire(server(tls))
    })
    test(`Kysely over a pg pool: typed select and introspection (${mode})`, async () => {
      await checkKysely(server(tls))
    })
    test(`bad input: garbage instead of a startup packet (${mode})`, async () => {
      const report = await checkGarbageStartup(server(tls))
      // Native PostgreSQL answers only the bad protocol version; the rest it closes silently.
      assert.deepEqual(report.outcomes.map((o) => o.errors.map((e) => e.code)), [[], ['0A000'], []])
    })
    test(`bad input: truncated messages (${mode})`, async () => {
      const report = await checkTruncatedMessage(server(tls))
      assert.ok(report.outcomes.every((o) => o.errors.length === 0))
    })
    test(`bad input: unknown message type after login (${mode})`, async () => {
      await checkUnknownMessageType(server(tls))
    })
    test(`bad input: 1 GiB and too-short length fields (${mode})`, async () => {
      const report = await checkOversizedMessage(server(tls))
      assert.ok(report.outcomes.every((o) => o.errors.length === 0 && o.ms < 2000))
    })
  }
})
