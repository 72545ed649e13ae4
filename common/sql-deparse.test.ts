import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule, parseSync } from 'libpg-query'
import type { PgError } from './errors/pg-error.js'
import { deparseSql } from './sql-deparse.js'

before(() => loadModule())

const again = (sql: string) => deparseSql(parseSync(sql)).replace(/\s+/g, ' ')

test('FETCH FIRST ... WITH TIES keeps its ties, with an offset, a parameter, nested and in a set operation', () => {
  assert.equal(again('SELECT a FROM t ORDER BY a FETCH FIRST 1 ROW WITH TIES'), 'SELECT a FROM t ORDER BY a FETCH FIRST (1) ROWS WITH TIES')
  assert.equal(again('SELECT a FROM t ORDER BY a OFFSET $1 ROWS FETCH NEXT (2 + 1) ROWS WITH TIES'), 'SELECT a FROM t ORDER BY a OFFSET ($1) ROWS FETCH FIRST (2 + 1) ROWS WITH TIES')
  const nested = again('SELECT * FROM (SELECT a FROM t ORDER BY a FETCH FIRST 1 ROWS WITH TIES) s UNION ALL (SELECT 1 ORDER BY 1 FETCH FIRST 1 ROW WITH TIES)')
  assert.equal(nested.match(/WITH TIES/g)?.length, 2, nested)
  // What it writes parses to the same tree.
  for (const sql of ['SELECT a FROM t ORDER BY a OFFSET 3 ROWS FETCH FIRST 2 ROWS WITH TIES', 'SELECT a FROM t ORDER BY a LIMIT 3 OFFSET 2']) {
    const tree = (s: string) => JSON.stringify(parseSync(s), (k, v) => (k === 'location' ? undefined : v))
    assert.equal(tree(deparseSql(parseSync(sql))), tree(sql))
  }
})

test('LIMIT and OFFSET without ties are written as before', () => {
  assert.equal(again('SELECT a FROM t ORDER BY a LIMIT 3 OFFSET 2'), 'SELECT a FROM t ORDER BY a LIMIT 3 OFFSET 2')
})

test('operands are parenthesized where precedence would change them', () => {
  const tree = (sql: string) => JSON.stringify(parseSync(sql), (k, v) => (k === 'location' || k.endsWith('_start') || k.endsWith('_end') ? undefined : v))
  for (const sql of [
    'SELECT count(*) FROM alerts WHERE (severity > 5 OR pid > 100) IS NULL',
    'SELECT count(*) FROM logs WHERE (pid NOT IN (SELECT pid FROM alerts)) IS NULL',
    'SELECT count(*) FROM alerts WHERE (NOT (severity > 5)) IS TRUE',
    "SELECT time AT TIME ZONE ('Europe/' || 'Paris') FROM alerts",
    'SELECT count(*) FROM alerts WHERE (pid > 5) IN (true)',
    'SELECT count(*) FROM alerts WHERE (severity IS DISTINCT FROM 5) IS NOT TRUE',
    'SELECT count(*) FROM alerts WHERE (pid > 1) = ANY (ARRAY[true])',
    'SELECT count(*) FROM alerts WHERE (pid BETWEEN 1 AND 5) BETWEEN false AND true',
    'SELECT (ARRAY[pid, ppid])[2], (x::int[])[1], (f(x)).y FROM alerts',
    "SELECT (a || b) COLLATE \"C\", ((a || b) COLLATE \"C\")::text FROM t",
    'SELECT count(*) FROM alerts GROUP BY DISTINCT ROLLUP (host_name), ROLLUP (host_name)',
    'SELECT a + b * c, (a + b) * c, -(a - b), NOT (a AND b) OR c FROM t',
    "SELECT 'a' || ('1' IS JSON), -(a IS DOCUMENT), b AT TIME ZONE (a IS JSON), (NOT a) IS JSON FROM t",
    'WITH "Foo" AS (SELECT 1) SELECT * FROM "Foo"',
    "SELECT count(*) OVER (PARTITION BY x = E'a\\nb' ORDER BY g) FROM t",
    `SELECT '{1}'::"char"[], x::pg_catalog."char", "bit" '101', x::"bit", '101'::bit(3), 'x'::char(3)`,
    'SELECT f("Foo" => 1), count(*) OVER "W", sum(a) OVER ("W" ORDER BY b) FROM (t JOIN u ON true) AS "J" WINDOW "W" AS (PARTITION BY c)',
    'SELECT xmlserialize(CONTENT x AS text INDENT)',
  ]) {
    assert.equal(tree(deparseSql(parseSync(sql))), tree(sql), sql)
  }
})

test('a construct the deparser cannot write is 0A000, not an internal error', () => {
  assert.throws(() => deparseSql(parseSync("SELECT JSON_VALUE(event_data, '$.Seq') FROM logs")), (e: PgError) => e.code === '0A000' && /JsonFuncExpr is not supported by Fedgres/.test(e.message))
  assert.throws(() => deparseSql(parseSync("SELECT * FROM XMLTABLE('/r' PASSING '<r/>' COLUMNS x int PATH 'x') t")), (e: PgError) => e.code === '0A000')
  // Even where pgsql-deparser swallows the error and writes nothing in its place.
  assert.throws(() => deparseSql(parseSync("SELECT * FROM ROWS FROM (generate_series(1, 2), json_value(jsonb '5', '$'))")), (e: PgError) => e.code === '0A000')
})
