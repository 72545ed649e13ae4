import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { classify } from './classify.js'
import { parseStatements } from './sql-parse.js'

describe('statement classes', () => {
  before(() => loadModule())
  test('a repeated statement (the same frozen tree) is classed by its search path each time', () => {
    const sql = 'SELECT count(*) FROM logs'
    const [first] = parseStatements(sql)
    const [again] = parseStatements(sql)
    assert.equal(again!.node, first!.node, 'the parse cache returns the same tree')
    assert.ok(Object.isFrozen(again!.node))
    assert.deepEqual(classify(first!, ['public']), { kind: 'read', target: 'data', setsConfig: false })
    assert.deepEqual(classify(again!, ['pg_catalog']), { kind: 'read', target: 'local', setsConfig: false })
    assert.deepEqual(classify(again!, ['public']), { kind: 'read', target: 'data', setsConfig: false })
  })

  test('writes and set_config of identity settings are caught however often they come', () => {
    for (let i = 0; i < 2; i++) {
      const [w] = parseStatements('WITH d AS (DELETE FROM logs RETURNING 1) SELECT * FROM d')
      assert.equal(classify(w!, ['public']).kind, 'write')
      const [r] = parseStatements("SELECT set_config('role', 'postgres', false)")
      assert.equal(classify(r!, ['public']).kind, 'denied')
    }
  })
})
