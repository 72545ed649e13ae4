/**
 * psqlODBC (what older Tableau and Excel use) through unixODBC's `isql`, with UseDeclareFetch=1
 * so every SELECT runs as `declare ... cursor with hold` plus `fetch 100 in ...`. The driver and
 * the DSN are configured in a temp dir only this run sees (ODBCSYSINI/ODBCINI).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { alertColumns, type PgType } from '../../schema/columns.js'
import type { ServerUnderTest } from './index.js'
import { runProcess } from './psql-client.js'

export const PSQLODBC_DRIVER = '/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so'

export interface OdbcReport {
  /** SQLTables rows: [catalog, schema, table, type]. */
  readonly tables: string[][]
  /** SQLColumns rows for alerts, by column label. */
  readonly columns: Record<string, string>[]
  readonly outputs: Readonly<Record<string, string>>
}

/** psqlODBC's TYPE_NAME (typname) and FIELD_TYPE (type OID) of our column types. */
const odbcType: Record<PgType, [string, string]> = {
  timestamptz: ['timestamptz', '1184'],
  text: ['text', '25'],
  integer: ['int4', '23'],
  bigint: ['int8', '20'],
  jsonb: ['jsonb', '3802'],
  'text[]': ['_text', '1009'],
}

/** isql's boxed output: every `| a | b |` line as its trimmed cells; the first is the header. */
function boxRows(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.slice(1, -1).split('|').map((c) => c.trim()))
}

/** Header-keyed records of a boxed result. */
function records(out: string): Record<string, string>[] {
  const [header, ...rows] = boxRows(out)
  assert.ok(header, `isql printed no result table\n${out}`)
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])))
}

export async function checkOdbc(server: ServerUnderTest): Promise<OdbcReport> {
  const dir = await mkdtemp(join(tmpdir(), 'fedgres-odbc-'))
  try {
    await writeFile(join(dir, 'odbcinst.ini'), `[FedgresPostgreSQL]\nDriver=${PSQLODBC_DRIVER}\n`)
    await writeFile(
      join(dir, 'odbc.ini'),
      [
        '[fedgres]',
        'Driver=FedgresPostgreSQL',
        `Servername=${server.host}`,
        `Port=${server.port}`,
        `Database=${server.database}`,
        `Username=${server.user}`,
        `Password=${server.password}`,
        `SSLmode=${server.tls ? 'require' : 'disable'}`,
        'UseDeclareFetch=1',
        // Rows per FETCH: small, so the 250-row query below needs several round trips.
        'Fetch=100',
        '',
      ].join('\n'),
      { mode: 0o600 },
    )
    const env = { ODBCSYSINI: dir, ODBCINI: join(dir, 'odbc.ini') }
    const outputs: Record<string, string> = {}
    const isql = async (command: string) => {
      const res = await runProcess('isql', ['-v', '-b', 'fedgres'], { env, input: `${command}\n`, timeoutMs: 30_000 })
      const all = res.stdout + res.stderr
      assert.equal(res.code, 0, `isql exited ${res.code} on ${JSON.stringify(command)}\n${all}`)
      assert.doesNotMatch(all, /\[ISQL\]ERROR|\[unixODBC\]|ERROR:/, `isql reported an error on ${JSON.stringify(command)}\n${all}`)
      outputs[command] = res.stdout
      return res.stdout
    }

    // SQLTables
    const tablesOut = await isql('help')
    const tables = boxRows(tablesOut).slice(1)
    for (const t of ['alerts', 'logs'])
      assert.ok(tables.some((r) => r[1] === 'public' && r[2] === t && r[3] === 'TABLE'), `SQLTables lacks public.${t} TABLE\n${tablesOut}`)
    for (const v of ['edges', 'sources']) assert.ok(tables.some((r) => r[1] === 'fedgres' && r[2] === v), `SQLTables lacks fedgres.${v}\n${tablesOut}`)
    assert.match(tablesOut, new RegExp(`^${tables.length} rows fetched$`, 'm'), tablesOut)

    // SQLColumns
    const columnsOut = await isql('help alerts')
    const columns = records(columnsOut)
    assert.deepEqual(
      columns.map((c) => [c.TABLE_OWNER, c.TABLE_NAME, c.COLUMN_NAME, c.TYPE_NAME, c['FIELD_TYPE'], c.NULLABLE, c.ORDINAL_POSITION]),
      alertColumns.map((c, i) => ['public', 'alerts', c.name, ...odbcType[c.type], c.notNull ? '0' : '1', String(i + 1)]),
      `SQLColumns(alerts): owner, table, column, TYPE_NAME, FIELD_TYPE, NULLABLE, ORDINAL_POSITION\n${columnsOut}`,
    )

    // A query over a cursor: 250 rows arrive in FETCHes of 100.
    const seriesOut = await isql('select g, g * 2 as twice from generate_series(1, 250) g')
    const series = records(seriesOut)
    assert.equal(series.length, 250, `declare/fetch query row count\n${seriesOut.slice(-500)}`)
    series.forEach((r, i) => assert.deepEqual([r.g, r.twice], [String(i + 1), String(2 * (i + 1))], `declare/fetch row ${i + 1}`))
    assert.match(seriesOut, /^250 rows fetched$/m, seriesOut.slice(-500))

    const countOut = await isql('select count(*) as n from alerts')
    assert.deepEqual(records(countOut), [{ n: '0' }], `select count(*) from alerts\n${countOut}`)
    return { tables, columns, outputs }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
