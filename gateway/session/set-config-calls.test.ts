import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { effects, readBackSql, witnessSetConfig } from './set-config-calls.js'
import { parseStatements } from './sql-parse.js'

describe('set_config() calls witnessed', () => {
  before(() => loadModule())

  test('each call with a constant name gets a witness in its is_local; a local computed value passes through a marker', () => {
    const w = witnessSetConfig(parseStatements("SELECT set_config('myapp.a', '1', false), set_config('myapp.b', v, true) FROM t")[0]!)
    assert.ok(w)
    assert.deepEqual(w.calls, [
      { name: 'myapp.a', local: false, value: '1', witnessed: true },
      { name: 'myapp.b', local: true, value: undefined, witnessed: true },
    ])
    assert.match(w.stmt.text, /set_config\('myapp\.a', '1', CASE WHEN pg_catalog\.set_config\('fedgres\.set_config_ran_0', 'y', false\) IS NOT NULL THEN false END\)/)
    assert.match(w.stmt.text, /set_config\('myapp\.b', NULLIF ?\(pg_catalog\.set_config\('fedgres\.set_config_value_1', COALESCE\(v, /)
    assert.equal(witnessSetConfig(parseStatements('SELECT 1')[0]!), undefined)
  })

  test('only the calls that ran have an effect: a non-local one with the value read back, a local one with its own', () => {
    const w = witnessSetConfig(parseStatements("SELECT set_config('myapp.a', '1', false), set_config('myapp.b', v, true), set_config('myapp.c', '3', true) FROM t")[0]!)!
    assert.match(readBackSql(w.calls), /^SELECT pg_catalog\.current_setting\('fedgres\.set_config_ran_0', true\), pg_catalog\.current_setting\('myapp\.a', true\)/)
    assert.deepEqual(effects(w.calls, [['', '', '', '', null, '', '', null, '', ''], ['y', 'one', '', 'y', 'w', '', '', null, '', '']]), [
      { name: 'myapp.a', value: 'one', local: false },
      { name: 'myapp.b', value: 'w', local: true },
    ])
    assert.deepEqual(effects(w.calls, [['', '', '', '', null, '', '', null, '', '']]), [])
  })
})
