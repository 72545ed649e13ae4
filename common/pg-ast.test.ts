import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule, parseSync } from 'libpg-query'
import { relationRangeVars } from './pg-ast.js'

before(() => loadModule())

const relations = (sql: string) => relationRangeVars(parseSync(sql)).map((f) => (f.schemaname ? `${f.schemaname}.` : '') + f.relname)

test('a CTE hides a table of its name only where PostgreSQL sees the CTE', () => {
  assert.deepEqual(relations('WITH logs AS (SELECT 1) SELECT * FROM logs'), [])
  assert.deepEqual(relations('WITH logs AS (SELECT 1) SELECT * FROM public.logs'), ['public.logs'])
  // A CTE in a subquery hides nothing outside it.
  assert.deepEqual(relations('SELECT (WITH logs AS (SELECT 1 AS x) SELECT count(*) FROM logs), (SELECT count(*) FROM logs)'), ['logs'])
  // In a set operation's arm (a bare statement body, not a wrapped node).
  assert.deepEqual(relations('SELECT count(*) FROM alerts UNION ALL (WITH alerts AS (SELECT 1 AS x) SELECT count(*) FROM alerts)'), ['alerts'])
  // A CTE sees the earlier ones of its WITH, not itself or later ones; with RECURSIVE, all of them.
  assert.deepEqual(relations('WITH a AS (SELECT * FROM logs), logs AS (SELECT 5 AS n) SELECT * FROM a, logs'), ['logs'])
  assert.deepEqual(relations('WITH RECURSIVE logs AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM logs WHERE n < 3) SELECT * FROM logs'), [])
  assert.deepEqual(relations('WITH logs AS (SELECT * FROM logs) SELECT * FROM logs'), ['logs'])
})
