import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { PgError } from '../../common/errors/pg-error.js'
import { BackendEncoder } from '../../common/pgwire/index.js'
import { FrameError } from './frame-error.js'
import { hideUndefined, unmarkedError } from './placeholders.js'
import { parseStatements } from './sql-parse.js'

const hidden = { has: (n: string) => n === 'myapp.x', list: () => ['myapp.x'] }
const rewrite = (sql: string) => hideUndefined(parseStatements(sql)[0]!, hidden)

describe('custom settings another session defined', () => {
  before(() => loadModule())

  test('a read naming one by a constant reads a name no session can define; the others are left alone', () => {
    const r = rewrite("SELECT current_setting('MyApp.X', true), current_setting('myapp.y', true), pg_catalog.pg_settings_get_flags('myapp.x')")
    assert.ok(r && !(r instanceof PgError))
    assert.match(r.text, /current_setting\('fedgres-undefined:MyApp\.X', true\)/)
    assert.match(r.text, /current_setting\('myapp\.y', true\)/)
    assert.match(r.text, /pg_settings_get_flags\('fedgres-undefined:myapp\.x'\)/)
    assert.equal(rewrite("SELECT current_setting('myapp.y')"), undefined)
    assert.equal(rewrite('SELECT 1'), undefined)
  })

  test('SHOW of one is PostgreSQL\'s 42704', () => {
    const r = rewrite('SHOW myapp.x')
    assert.ok(r instanceof PgError)
    assert.equal(r.code, '42704')
    assert.equal(r.message, 'unrecognized configuration parameter "myapp.x"')
    assert.equal(rewrite('SHOW myapp.y'), undefined)
    assert.equal(rewrite('SHOW work_mem'), undefined)
  })

  test('a computed name is read as absent when it names one: it is evaluated again, so it may call no function', () => {
    const r = rewrite('SELECT current_setting(n, true) FROM (VALUES (1)) v(n)')
    assert.ok(r && !(r instanceof PgError))
    assert.match(r.text, /current_setting\(CASE WHEN pg_catalog\.lower\(n\) OPERATOR\(pg_catalog\.=\) ANY \(CAST\(ARRAY\['myapp\.x'\] AS text\[\]\)\) THEN 'fedgres-undefined:' OPERATOR\(pg_catalog\.\|\|\) n ELSE n END, true\)/)
  })

  test('a computed name calling a function, or a read of one the statement also sets, is refused (0A000)', () => {
    for (const sql of ["SELECT current_setting(lower(n)) FROM (VALUES ('a')) v(n)", "SELECT set_config('myapp.x', '1', false), current_setting('myapp.x')"]) {
      const r = rewrite(sql)
      assert.ok(r instanceof PgError, sql)
      assert.equal(r.code, '0A000', sql)
    }
  })

  test('the engine\'s error names the setting as the client wrote it', () => {
    const frame = new BackendEncoder().errorResponse({ severity: 'ERROR', code: '42704', message: 'unrecognized configuration parameter "fedgres-undefined:MyApp.X"', file: 'guc.c', routine: 'find_option' }).take()
    const e = unmarkedError(new FrameError(frame))
    assert.ok(e instanceof FrameError)
    assert.equal(e.message, 'unrecognized configuration parameter "MyApp.X"')
    const other = new PgError('22012', 'division by zero')
    assert.equal(unmarkedError(other), other)
  })
})
