import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { deparseSelect } from './ast.js'
import { pullUpSubqueries } from './pull-up.js'
import { selectOf } from '../../test/helpers/plan-input.js'

const PATH = ['$user', 'public']
const pulled = (sql: string): string | undefined => {
  const out = pullUpSubqueries(selectOf(sql), PATH)
  return out && deparseSelect(out)
}

describe('pulling up a subquery in FROM', () => {
  before(() => loadModule())

  test('a projection and filter of one table merges into the statement, names kept', () => {
    assert.equal(
      pulled("SELECT host_name, count(*) FROM (SELECT * FROM alerts WHERE time > '2026-10-01') AS virtual_table WHERE severity > 3 GROUP BY host_name ORDER BY 2 DESC LIMIT 10"),
      `SELECT alerts.host_name AS host_name, count(*) AS count FROM alerts WHERE ("time" > '2026-10-01') AND (alerts.severity > 3) GROUP BY alerts.host_name ORDER BY 2 DESC LIMIT 10`,
    )
    // Power BI's folded steps: each level a projection, aliases "_" and "$Table".
    assert.equal(
      pulled('SELECT "_"."h", "_"."t" FROM (SELECT "_"."host_name" AS "h", "_"."time" AS "t" FROM (SELECT * FROM "public"."logs" "$Table") "_") "_" WHERE "_"."t" >= $1'),
      'SELECT "$Table".host_name AS h, "$Table"."time" AS t FROM public.logs AS "$Table" WHERE "$Table"."time" >= $1',
    )
  })

  test('an output that is an expression is substituted where it is used, and keeps its name', () => {
    assert.equal(
      pulled('SELECT d, count(*) FROM (SELECT time::date AS d, pid FROM logs WHERE pid > 0) s GROUP BY d ORDER BY d'),
      'SELECT "time"::date AS d, count(*) AS count FROM logs WHERE pid > 0 GROUP BY "time"::date ORDER BY d',
    )
    // A column alias list renames the outputs.
    assert.equal(pulled('SELECT h FROM (SELECT host_name, pid FROM logs) s(h, p) WHERE p = 1'), 'SELECT host_name AS h FROM logs WHERE pid = 1')
  })

  test('GROUP BY an output\'s name (not a column of the subquery) becomes its position', () => {
    // Merged, "host_name" would name the table's column, not the output lower(h).
    assert.equal(pulled('SELECT lower(h) AS host_name, count(*) FROM (SELECT host_name AS h FROM alerts) s GROUP BY host_name'), 'SELECT lower(host_name) AS host_name, count(*) AS count FROM alerts GROUP BY 1')
  })

  test('whatever could change the answer is left as written', () => {
    for (const sql of [
      'SELECT h, count(*) FROM (SELECT host_name AS h, count(*) FROM alerts GROUP BY 1) s GROUP BY h', // an aggregate
      'SELECT * FROM (SELECT DISTINCT host_name FROM alerts) s', // DISTINCT
      'SELECT * FROM (SELECT host_name FROM alerts ORDER BY time LIMIT 5) s', // LIMIT
      'SELECT * FROM (SELECT host_name, random() AS r FROM alerts) s WHERE r < 0.5', // a volatile output
      'SELECT * FROM (SELECT generate_series(1, pid) AS g FROM alerts) s', // a set-returning output
      "SELECT x FROM (SELECT 'a' AS x FROM alerts) s", // an output of type unknown
      'SELECT * FROM (SELECT host_name FROM alerts) s WHERE host_name IN (SELECT host_name FROM logs)', // a subquery in the statement
      'SELECT s FROM (SELECT host_name FROM alerts) s', // a whole-row reference
      'SELECT h FROM (SELECT host_name AS h, pid AS h FROM alerts) s', // an ambiguous name
      'SELECT nope FROM (SELECT host_name FROM alerts) s', // an unknown column: PostgreSQL's error
      'SELECT * FROM (SELECT host_name FROM alerts) s, logs', // two FROM items
      'SELECT * FROM (SELECT host_name FROM alerts UNION SELECT host_name FROM logs) s', // a set operation
      'WITH alerts AS (SELECT 1 AS pid) SELECT pid FROM (SELECT pid FROM alerts) s', // a CTE in scope
    ]) assert.equal(pulled(sql), undefined, sql)
  })

  test('below a level that stays, a subquery is still pulled up', () => {
    assert.equal(
      pulled('SELECT count(*), max(a0) FROM (SELECT h, count(*) AS a0 FROM (SELECT host_name AS h FROM alerts WHERE pid > 1) "rows" GROUP BY h) "_"'),
      'SELECT count(*), max(a0) FROM ( SELECT host_name AS h, count(*) AS a0 FROM alerts WHERE pid > 1 GROUP BY host_name ) AS _',
    )
  })

  test('a statement that only filters, orders and limits an aggregate subquery\'s groups becomes one grouped statement, its WHERE the HAVING', () => {
    // Power BI's DirectQuery visual.
    assert.equal(
      pulled('SELECT "_"."k", "_"."a0" FROM (SELECT "rows"."host_name" AS "k", count(1) AS "a0" FROM (SELECT "_"."host_name", "_"."time" FROM "public"."logs" "_" WHERE "_"."time" >= $1) "rows" GROUP BY "host_name") "_" WHERE NOT "_"."a0" IS NULL LIMIT 1000001'),
      'SELECT _.host_name AS k, count(1) AS a0 FROM public.logs AS _ WHERE _."time" >= $1 GROUP BY _.host_name HAVING NOT ((count(1) IS NULL)) LIMIT 1000001',
    )
    // GROUP BY a position or an output's name is spelled out before the outputs change.
    assert.equal(
      pulled("SELECT d, n FROM (SELECT time::date AS d, count(*) AS n FROM alerts GROUP BY 1 HAVING count(*) > 1) s WHERE d > '2026-10-01' ORDER BY n DESC, d"),
      `SELECT "time"::date AS d, count(*) AS n FROM alerts GROUP BY "time"::date HAVING (count(*) > 1) AND ("time"::date > '2026-10-01') ORDER BY n DESC, d`,
    )
    assert.equal(pulled('SELECT x FROM (SELECT lower(cluster_name) AS x FROM alerts GROUP BY x) s'), 'SELECT lower(cluster_name) AS x FROM alerts GROUP BY lower(cluster_name)')
    // A window over the groups stays one.
    assert.equal(
      pulled('SELECT h, rank() OVER (ORDER BY n DESC, h) FROM (SELECT host_name AS h, count(*) AS n FROM alerts GROUP BY 1) s WHERE n > 2'),
      'SELECT host_name AS h, rank() OVER (ORDER BY count(*) DESC, host_name) AS rank FROM alerts GROUP BY host_name HAVING count(*) > 2',
    )
    for (const sql of [
      'SELECT count(*) FROM (SELECT host_name, count(*) AS n FROM alerts GROUP BY 1) s', // an aggregate of the groups
      'SELECT DISTINCT n FROM (SELECT host_name AS h, count(*) AS n FROM alerts GROUP BY 1) s',
      'SELECT * FROM (SELECT host_name AS h, count(*) AS n FROM alerts GROUP BY ROLLUP (1)) s WHERE n > 1',
      'SELECT * FROM (SELECT host_name AS h, count(*) AS n FROM alerts GROUP BY 1 ORDER BY 2 LIMIT 3) s',
      'SELECT * FROM (SELECT host_name AS h, count(*) + random() AS n FROM alerts GROUP BY 1) s WHERE n > 1',
      'SELECT * FROM (SELECT a.host_name AS h, count(*) AS n FROM alerts a JOIN logs l USING (pid) GROUP BY 1) s WHERE n > 1',
      'SELECT * FROM (SELECT * FROM alerts GROUP BY time, edge_id) s', // a * of the groups
    ]) assert.equal(pulled(sql), undefined, sql)
  })

  test('a WITH query used once in FROM is read in place, then merged', () => {
    assert.equal(
      pulled("WITH recent AS (SELECT host_name, pid FROM alerts WHERE time > '2026-10-05') SELECT host_name, count(*) FROM recent GROUP BY 1 ORDER BY 1"),
      `SELECT host_name AS host_name, count(*) AS count FROM alerts WHERE "time" > '2026-10-05' GROUP BY 1 ORDER BY 1`,
    )
    // Superset hoists a dataset's WITH above its virtual table.
    assert.equal(pulled('WITH c(h) AS (SELECT host_name FROM logs) SELECT h FROM (SELECT * FROM c) AS virtual_table LIMIT 5'), 'SELECT host_name AS h FROM logs LIMIT 5')
    for (const sql of [
      'WITH c AS MATERIALIZED (SELECT host_name FROM logs) SELECT host_name FROM c',
      'WITH c AS (SELECT host_name FROM logs) SELECT a.host_name FROM c a, c b', // used twice
      'WITH c AS (SELECT host_name FROM logs) SELECT host_name FROM c WHERE host_name IN (SELECT host_name FROM c)',
      'WITH RECURSIVE c AS (SELECT host_name FROM logs) SELECT host_name FROM c',
      'WITH c AS (SELECT host_name FROM logs), d AS (SELECT 1) SELECT host_name FROM c', // two CTEs
      'WITH c AS (SELECT host_name, count(*) AS n FROM logs GROUP BY 1) SELECT count(*) FROM c', // inlined, but nothing merges
    ]) assert.equal(pulled(sql), undefined, sql)
  })
})
