import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { PgError } from '../../common/errors/pg-error.js'
import { newActivity } from './activity.js'
import { withBackendFunctions } from './backend-functions.js'
import { loadParser, parseStatements } from './sql-parse.js'

before(async () => {
  await loadParser()
})

const self = newActivity(7, 'analyst', 'fedgres', '127.0.0.1:5000', 'psql')
const other = newActivity(9, 'auditor', 'fedgres', '10.0.0.2:6000', 'grafana')
const rewrite = (sql: string) => withBackendFunctions(parseStatements(sql)[0]!, () => ({ self, sessions: [self, other] }))
const text = (sql: string) => {
  const r = rewrite(sql)
  assert.ok(r && !(r instanceof PgError), sql)
  return r.stmt.text
}

test('statements without the process functions are left alone', () => {
  assert.equal(rewrite('SELECT count(*) FROM logs'), undefined)
  assert.equal(rewrite("SELECT 'pg_backend_pid'"), undefined, 'a mention in a string is no call')
})

test('pg_backend_pid() is the session\'s pid, and a bare call keeps its column name', () => {
  assert.equal(text('SELECT pg_backend_pid()'), 'SELECT 7 AS pg_backend_pid')
  assert.equal(text('SELECT pg_catalog.pg_backend_pid() AS p, pg_backend_pid() + 1'), 'SELECT 7 AS p, 7 + 1')
  const r = rewrite('SELECT * FROM pg_backend_pid()')
  assert.ok(r instanceof PgError && r.code === '0A000')
})

test('pg_stat_activity is the sessions\' rows, under the alias given; another role\'s query is hidden', () => {
  const t = text('SELECT a.pid, b.x FROM pg_stat_activity a, pg_catalog.pg_stat_activity AS b(x)')
  assert.match(t, /\) AS a, \( SELECT d\.oid AS datid, /)
  assert.match(t, /\) AS b\(x\)$/)
  assert.match(t, /\('9', 'auditor', 'grafana', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '<insufficient privilege>', NULL\)/)
  assert.equal(rewrite('SELECT * FROM myschema.pg_stat_activity'), undefined, 'a table of that name elsewhere is not the view')
})

test('the signal functions call the engine\'s overloads with the live pids first; nested calls are rewritten too', () => {
  const r = rewrite('SELECT pg_cancel_backend(pg_backend_pid()), pg_terminate_backend(pid => 9, timeout => 10)')
  assert.ok(r && !(r instanceof PgError) && r.signals)
  assert.equal(r.stmt.text, 'SELECT pg_catalog.pg_cancel_backend(CAST(ARRAY[7, 9] AS int[]), 7), pg_catalog.pg_terminate_backend(CAST(ARRAY[7, 9] AS int[]), pid => 9, timeout => 10)')
})
