import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { checkEdgeStatement } from './guard.js'

before(() => loadModule())

test('a single SELECT passes, with joins, CTEs, windows and local output settings', () => {
  for (const sql of [
    'SELECT 1',
    'SELECT host_name, count(*) FROM alerts WHERE time > $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 5',
    'WITH x AS (SELECT * FROM logs) SELECT * FROM x JOIN alerts USING (host_name)',
    "SELECT set_config('TimeZone', $1, true), set_config('DateStyle', 'ISO, MDY', true)",
    '',
  ]) assert.equal(checkEdgeStatement(sql), undefined, sql)
})

test('writes, several statements, locks, file access and lasting settings are refused with 42501', () => {
  for (const sql of [
    'DELETE FROM alerts',
    'SELECT 1; SELECT 2',
    'WITH d AS (DELETE FROM alerts RETURNING *) SELECT * FROM d',
    'SELECT * INTO t FROM alerts',
    'SELECT * FROM alerts FOR UPDATE',
    "SELECT pg_read_file('postgresql.conf')",
    "SELECT set_config('TimeZone', 'UTC', false)",
    "SELECT set_config('role', 'x', true)",
    "SELECT query_to_xml('select 1', true, true, '')",
    'SET TimeZone = UTC',
    'BEGIN',
  ]) {
    const e = checkEdgeStatement(sql)
    assert.ok(e, sql)
    assert.equal(e.code, '42501', sql)
  }
  assert.equal(checkEdgeStatement('SELEC 1')?.code, '42601')
})

test('encoding conversions PGlite cannot run are refused (0A000) before they reach the store', () => {
  for (const sql of [
    "SELECT convert_to(host_name, 'LATIN1') FROM alerts",
    "SELECT count(*) FROM logs WHERE convert_from(convert_to(resource, 'UTF8'), 'EUC_JP') = ''",
    "SELECT pg_catalog.convert('\\xc3a9', 'UTF8', 'win1252')",
    'SELECT convert_to(host_name, $1) FROM alerts',
  ]) assert.equal(checkEdgeStatement(sql)?.code, '0A000', sql)
  for (const sql of ["SELECT convert_to(host_name, 'utf-8') FROM alerts", "SELECT convert_from('\\xe9', 'LATIN1')", "SELECT convert('\\xe9', 'iso-8859-1', 'SQL_ASCII')"]) {
    assert.equal(checkEdgeStatement(sql), undefined, sql)
  }
})
