import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { deparseSelect } from './ast.js'
import { derivedCandidates, withDerivedRows } from './derived-tables.js'
import { selectOf } from '../../test/helpers/plan-input.js'

const PATH = ['$user', 'public']
const found = (sql: string) => derivedCandidates(selectOf(sql), PATH).map((c) => `${c.place}: ${c.sql}${c.names.length ? ` (${c.names.join(', ')})` : ''}`)
const bound = (sql: string) => {
  const select = selectOf(sql)
  let next = 3
  const all = derivedCandidates(select, PATH).map((candidate, i) => ({ candidate, params: [next++, next++], names: [`a${i}`, `b${i}`] }))
  return deparseSelect(withDerivedRows(select, all))
}

describe('derived tables run apart', () => {
  before(() => loadModule())

  test('aggregated subqueries in FROM (joins included), WITH queries and set operation arms are found', () => {
    assert.deepEqual(found('SELECT count(*) FROM (SELECT host_name, count(*) AS n FROM logs GROUP BY 1) s(h) WHERE n > 100'), ['from: SELECT host_name, count(*) AS n FROM logs GROUP BY 1 (h)'])
    assert.deepEqual(found('SELECT * FROM logs t0 JOIN (SELECT host_name, max(time) AS mx FROM logs GROUP BY 1) t1 USING (host_name)'), ['from: SELECT host_name, max("time") AS mx FROM logs GROUP BY 1'])
    assert.deepEqual(found('WITH a AS (SELECT pid FROM alerts ORDER BY time DESC LIMIT 5) SELECT * FROM a'), ['with: SELECT pid FROM alerts ORDER BY "time" DESC LIMIT 5'])
    assert.deepEqual(found("SELECT 'a', count(*) FROM alerts UNION ALL SELECT 'l', count(*) FROM logs"), ["arm: SELECT 'a', count(*) FROM alerts", "arm: SELECT 'l', count(*) FROM logs"])
  })

  test('what reads every row, the row beside it, the catalog, or an arm typed by the others, stays in the statement', () => {
    for (const sql of [
      'SELECT count(*) FROM (SELECT host_name, pid FROM logs) s', // a projection: gathering it ships no more
      'SELECT * FROM logs l, LATERAL (SELECT count(*) FROM alerts a WHERE a.pid = l.pid) x', // LATERAL
      'SELECT * FROM (SELECT relname, count(*) FROM pg_class GROUP BY 1) c', // the catalog
      'SELECT NULL, count(*) FROM alerts UNION ALL SELECT 1, count(*) FROM logs', // NULL takes integer from the other arm
      'WITH RECURSIVE r AS (SELECT count(*) AS n FROM alerts UNION ALL SELECT n - 1 FROM r WHERE n > 0) SELECT * FROM r',
      'SELECT * FROM (SELECT host_name COLLATE "C" AS h, count(*) FROM logs GROUP BY 1) s ORDER BY h', // its own collation
    ]) {
      assert.deepEqual(found(sql), [], sql)
    }
  })

  test('each becomes a scan of its rows: one array parameter per column, under its name and column names', () => {
    assert.equal(
      bound('SELECT count(*) FROM (SELECT host_name, count(*) AS n FROM logs GROUP BY 1) s WHERE n > 100'),
      'SELECT count(*) FROM unnest($3, $4) AS s(a0, b0) WHERE n > 100',
    )
    assert.equal(bound('WITH a AS (SELECT pid, count(*) FROM alerts GROUP BY 1) SELECT * FROM a'), 'WITH a AS (SELECT * FROM unnest($3, $4) AS __rows(a0, b0)) SELECT * FROM a')
    assert.equal(
      bound("SELECT 'a', count(*) FROM alerts UNION ALL SELECT 'l', count(*) FROM logs ORDER BY 2"),
      'SELECT * FROM unnest($3, $4) AS __rows(a0, b0) UNION ALL SELECT * FROM unnest($5, $6) AS __rows(a1, b1) ORDER BY 2',
    )
  })
})
