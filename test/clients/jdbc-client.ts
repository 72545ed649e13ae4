/**
 * pgjdbc (the Debian libpostgresql-jdbc-java driver, what Tableau and DBeaver use) through
 * JdbcProbe.java: DatabaseMetaData, a PreparedStatement that becomes server-prepared, a
 * fetch-size cursor and a statement cancel. The probe prints what it saw; this file judges.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { alertColumns, type PgType } from '../../schema/columns.js'
import type { ServerUnderTest } from './index.js'
import { clientAsset, runProcess } from './psql-client.js'

export const PGJDBC_JAR = '/usr/share/java/postgresql.jar'

let compiled: Promise<string> | undefined

/** javac takes seconds: compile once per process into a temp dir removed at exit. */
export function compileJdbcProbe(): Promise<string> {
  compiled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedgres-jdbc-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const res = await runProcess('javac', ['-nowarn', '-cp', PGJDBC_JAR, '-d', dir, clientAsset('JdbcProbe.java')], { timeoutMs: 120_000 })
    if (res.code !== 0) throw new Error(`javac JdbcProbe.java failed (${res.code})\n${res.stderr}`)
    return dir
  })()
  return compiled
}

/** One line of the probe's output. */
interface ProbeLine {
  check: string
  ok: boolean
  error?: string
  sqlState?: string
  [key: string]: unknown
}

export interface JdbcReport {
  readonly url: string
  readonly checks: Readonly<Record<string, ProbeLine>>
}

/** The `TYPE_NAME` pgjdbc reports: pg_type.typname. */
const typname: Record<PgType, string> = { timestamptz: 'timestamptz', text: 'text', integer: 'int4', bigint: 'int8', jsonb: 'jsonb', 'text[]': '_text' }
/** java.sql.Types codes pgjdbc 42.5 maps those to. */
const sqlType: Record<PgType, number> = { timestamptz: 93, text: 12, integer: 4, bigint: -5, jsonb: 1111, 'text[]': 2003 }

export async function checkJdbc(server: ServerUnderTest): Promise<JdbcReport> {
  const classes = await compileJdbcProbe()
  const url = `jdbc:postgresql://${server.host}:${server.port}/${encodeURIComponent(server.database)}?sslmode=${server.tls ? 'require' : 'disable'}`
  const res = await runProcess(
    'java',
    // A short-lived JVM on a busy 2-core machine: skip the optimising JIT and the parallel GC.
    ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', `${classes}:${PGJDBC_JAR}`, 'JdbcProbe', url, server.user],
    { env: { FEDGRES_PASSWORD: server.password }, timeoutMs: 60_000 },
  )
  const context = `pgjdbc ${url}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`
  assert.equal(res.code, 0, `JdbcProbe exited ${res.code}\n${context}`)
  const checks: Record<string, ProbeLine> = {}
  for (const line of res.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const parsed = JSON.parse(line) as ProbeLine
    checks[parsed.check] = parsed
  }
  const get = (name: string) => {
    const c = checks[name]
    assert.ok(c, `pgjdbc check ${name} did not run\n${context}`)
    assert.equal(c.ok, true, `pgjdbc ${name} failed: ${c.error} (SQLState ${c.sqlState})\n${context}`)
    return c
  }

  assert.match(String(get('connect').version), /^\d+\.\d+/, `server_version as pgjdbc parsed it\n${context}`)
  assert.ok((get('getCatalogs').catalogs as string[]).includes(server.database), `getCatalogs lacks ${server.database}\n${context}`)
  const schemas = get('getSchemas').schemas as string[]
  for (const s of ['public', 'fedgres']) assert.ok(schemas.includes(s), `getSchemas lacks ${s}\n${context}`)

  const tables = get('getTables').tables as [string, string, string][]
  for (const t of ['alerts', 'logs']) {
    const row = tables.find(([name]) => name === t)
    assert.ok(row, `getTables(public) lacks ${t}\n${context}`)
    assert.equal(row[1], 'TABLE', `getTables type of ${t}`)
    assert.match(row[2], /^KubeArmor /, `getTables REMARKS of ${t} (the table comment)`)
  }

  const columns = get('getColumns').columns as [string, string, number, string, number][]
  assert.deepEqual(
    columns.map(([name, type, code, nullable]) => [name, type, code, nullable]),
    alertColumns.map((c) => [c.name, typname[c.type], sqlType[c.type], c.notNull ? 'NO' : 'YES']),
    `getColumns(alerts): name, TYPE_NAME, DATA_TYPE, IS_NULLABLE\n${context}`,
  )
  assert.deepEqual(columns.map((c) => c[4]), alertColumns.map((_, i) => i + 1), 'getColumns ORDINAL_POSITION')

  assert.ok(Array.isArray(get('getPrimaryKeys').keys), 'getPrimaryKeys')
  assert.ok(Number(get('getTypeInfo').types) > 20, `getTypeInfo returned ${get('getTypeInfo').types} types`)

  const prepared = get('prepared')
  assert.deepEqual(prepared.counts, [0, 0, 0, 0, 0, 0, 0], `prepared count(*) results\n${context}`)
  assert.equal(prepared.types, 'int8,timestamptz,text', 'prepared statement result column types')
  // From the 5th execution on, pgjdbc runs a named (server-prepared) statement.
  assert.deepEqual(prepared.serverPrepared, [false, false, false, true, true, true, true], `isUseServerPrepare after each run\n${context}`)

  const fetch = get('fetchSize')
  assert.deepEqual([fetch.rows, fetch.sum], [100, 5050], `setFetchSize(10) cursor rows and sum\n${context}`)

  const cancel = get('cancel')
  assert.equal(cancel.sqlState, '57014', `cancelled pg_sleep(30) must fail with 57014\n${context}`)
  assert.ok(Number(cancel.ms) < 10_000, `cancel took ${cancel.ms} ms`)
  assert.equal(cancel.after, 42, 'the connection works after the cancel')
  return { url, checks }
}
