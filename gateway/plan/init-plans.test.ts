import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { deparseSelect } from './ast.js'
import { distinctValues, initCandidates, withInitParams } from './init-plans.js'
import { selectOf } from '../../test/helpers/plan-input.js'

const PATH = ['$user', 'public']
const found = (sql: string) => initCandidates(selectOf(sql), PATH).map((c) => `${c.kind}: ${c.sql}`)
const bound = (sql: string) => {
  const select = selectOf(sql)
  const inits = initCandidates(select, PATH).map((candidate, i) => ({ candidate, param: 3 + i }))
  return deparseSelect(withInitParams(select, inits))
}

describe('init plans: subqueries with one value for the statement', () => {
  before(() => loadModule())

  test('scalar, IN, ANY, ALL and ARRAY() subqueries over the event tables are found, outermost only', () => {
    assert.deepEqual(found('SELECT count(*) FROM logs WHERE host_name IN (SELECT host_name FROM alerts WHERE severity > 8)'), ['any: SELECT host_name FROM alerts WHERE severity > 8'])
    assert.deepEqual(found("SELECT * FROM logs WHERE time > (SELECT max(time) FROM alerts) - interval '1 hour' AND pid < ALL (SELECT pid FROM alerts)"), [
      'scalar: SELECT max("time") FROM alerts',
      'all: SELECT pid FROM alerts',
    ])
    // The inner one belongs to the outer subquery, which runs as a statement of its own.
    assert.deepEqual(found('SELECT ARRAY(SELECT host_name FROM alerts WHERE pid = (SELECT max(pid) FROM logs))'), ['array: SELECT host_name FROM alerts WHERE pid = (((SELECT max(pid) FROM logs)))'])
  })

  test('a subquery naming an outer table, over the catalog only, with a row on the left, or a collation of its own is left as written', () => {
    for (const sql of [
      'SELECT count(*) FROM logs l WHERE pid IN (SELECT pid FROM alerts a WHERE a.host_name = l.host_name)', // correlated by name
      "SELECT * FROM logs WHERE host_name IN (SELECT relname FROM pg_class)", // the catalog
      'SELECT * FROM logs WHERE (host_name, pid) IN (SELECT host_name, pid FROM alerts)', // a row
      'SELECT * FROM logs WHERE EXISTS (SELECT 1 FROM alerts)', // EXISTS
      'SELECT * FROM logs WHERE host_name < (SELECT max(host_name COLLATE "C") FROM alerts)', // its own collation
    ]) {
      assert.deepEqual(found(sql), [], sql)
    }
  })

  test('the statement takes parameters in their place, with the operator of ANY and ALL kept', () => {
    assert.equal(bound('SELECT count(*) FROM logs WHERE host_name IN (SELECT host_name FROM alerts)'), 'SELECT count(*) FROM logs WHERE host_name = ANY ($3)')
    assert.equal(bound('SELECT count(*) FROM logs WHERE NOT pid >= ALL (SELECT pid FROM alerts) OR pid = (SELECT min(pid) FROM alerts)'), 'SELECT count(*) FROM logs WHERE (NOT ((pid >= ALL ($3)))) OR (pid = $4)')
    assert.equal(bound('SELECT ARRAY(SELECT pid FROM alerts ORDER BY pid) AS a'), 'SELECT $3 AS a')
  })

  test('ANY and ALL ask for each value once: a plain subquery grouped on its output, an aggregate one with DISTINCT', () => {
    const d = (sql: string) => {
      const out = distinctValues(selectOf(sql))
      return out && deparseSelect(out)
    }
    assert.equal(d('SELECT host_name FROM alerts WHERE severity > 8 ORDER BY time'), 'SELECT host_name FROM alerts WHERE severity > 8 GROUP BY 1')
    assert.equal(d('SELECT max(pid) FROM alerts GROUP BY host_name'), 'SELECT DISTINCT max(pid) FROM alerts GROUP BY host_name')
    // A LIMIT counts rows, duplicates included: left as written.
    assert.equal(d('SELECT pid FROM alerts ORDER BY time DESC LIMIT 10'), undefined)
  })
})
