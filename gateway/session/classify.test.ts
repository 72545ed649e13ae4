import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import { classify } from './classify.js'
import { parseStatements } from './sql-parse.js'
import { defaultOnlySetting } from './refusals.js'

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

  test('set_config of a default-only setting with a computed value, and non-C locales, are refused (0A000)', () => {
    for (const sql of ["SELECT set_config('transform_null_equals', 'o' || 'n', false)", "SELECT set_config('standard_conforming_strings', lower('OFF'), false) FROM logs", "SELECT set_config('lc_time', 'de_DE.UTF-8', false)"]) {
      const cls = classify(parseStatements(sql)[0]!, ['public'])
      assert.equal(cls.kind, 'denied', sql)
      assert.equal(cls.kind === 'denied' && cls.error.code, '0A000', sql)
    }
    for (const sql of ["SELECT set_config('transform_null_equals', 'off', false)", "SELECT set_config('transform_null_equals', NULL, false)", "SELECT set_config('lc_time', 'C', false)", "SELECT set_config('TimeZone', 'Asia/' || 'Tokyo', false)"]) {
      assert.equal(classify(parseStatements(sql)[0]!, ['public']).kind, 'read', sql)
    }
    assert.equal(defaultOnlySetting('lc_numeric', 'de_DE.UTF-8')?.code, '0A000')
    assert.equal(defaultOnlySetting('lc_monetary', 'C.UTF-8'), undefined)
  })

  test('system columns over the events are refused (0A000); over the catalog, and names the statement gives, they are PostgreSQL\'s', () => {
    for (const sql of [
      "SELECT count(*) FROM logs WHERE tableoid = 'logs'::regclass",
      'SELECT a.tableoid::regclass FROM alerts a LIMIT 1',
      "SELECT count(*) FROM alerts WHERE ctid = '(0,1)'",
      'SELECT ctid, time FROM logs LIMIT 1',
      'SELECT count(DISTINCT ctid) FROM alerts',
      'SELECT l.xmin, l.cmax FROM logs l ORDER BY time LIMIT 2',
      'SELECT x FROM (SELECT xmax AS x FROM alerts) s',
    ]) {
      const c = classify(parseStatements(sql)[0]!, ['public'])
      assert.ok(c.kind === 'denied' && c.error.code === '0A000' && /system column (tableoid|ctid|xmin|xmax|cmax)/.test(c.error.message), sql)
    }
    for (const sql of ['SELECT tableoid FROM pg_class LIMIT 1', 'SELECT ctid, xmin FROM pg_class LIMIT 1']) {
      assert.deepEqual(classify(parseStatements(sql)[0]!, ['public']), { kind: 'read', target: 'local', setsConfig: false }, sql)
    }
    for (const sql of [
      'SELECT host_name, min(pid) AS xmin FROM alerts GROUP BY 1 ORDER BY xmin',
      'WITH t (host_name, xmax) AS (SELECT host_name, max(pid) FROM alerts GROUP BY 1) SELECT xmax FROM t',
      'SELECT s.ctid FROM (SELECT pid FROM alerts) s (ctid)',
    ]) {
      assert.deepEqual(classify(parseStatements(sql)[0]!, ['public']), { kind: 'read', target: 'data', setsConfig: false }, sql)
    }
  })

  test('roles, schemas and tables named through the catalog over the events are refused (0A000): the edges have catalogs of their own', () => {
    for (const sql of [
      'SELECT current_user::regrole::text, count(*) FROM alerts GROUP BY 1',
      'SELECT count(*) FROM alerts WHERE to_regrole(current_user) IS NOT NULL',
      "SELECT 'alerts'::regclass::oid, count(*) FROM alerts",
      "SELECT count(*) FROM logs WHERE pg_catalog.to_regclass('logs') IS NOT NULL",
    ]) {
      const c = classify(parseStatements(sql)[0]!, ['public'])
      assert.ok(c.kind === 'denied' && c.error.code === '0A000' && /over the events is not supported/.test(c.error.message), sql)
    }
    // Over the catalog alone they are PostgreSQL's; built-in types keep their OIDs everywhere.
    assert.deepEqual(classify(parseStatements("SELECT current_user::regrole, 'alerts'::regclass::oid")[0]!, ['public']), { kind: 'read', target: 'local', setsConfig: false })
    assert.deepEqual(classify(parseStatements("SELECT pg_typeof(time), 'int4'::regtype FROM alerts LIMIT 1")[0]!, ['public']), { kind: 'read', target: 'data', setsConfig: false })
  })

  test('collations the edges cannot sort by as PostgreSQL 18.4 does are refused over the events (0A000); C and the built-in ones pass', () => {
    for (const sql of ['SELECT host_name FROM alerts ORDER BY host_name COLLATE "en_US"', 'SELECT min(host_name COLLATE "en-US-x-icu") FROM logs', 'SELECT count(*) FROM alerts WHERE host_name COLLATE "de_DE.utf8" < \'b\'',
      'SELECT host_name FROM alerts ORDER BY host_name COLLATE "und-x-icu" DESC', 'SELECT min(host_name COLLATE unicode) FROM logs']) {
      const c = classify(parseStatements(sql)[0]!, ['public'])
      assert.ok(c.kind === 'denied' && c.error.code === '0A000' && /collation/.test(c.error.message), sql)
    }
    for (const sql of ['SELECT host_name FROM alerts ORDER BY host_name COLLATE "C"', 'SELECT host_name FROM alerts ORDER BY host_name COLLATE pg_unicode_fast DESC', 'SELECT max(host_name COLLATE pg_catalog."POSIX") FROM alerts', 'SELECT host_name FROM alerts ORDER BY 1 COLLATE ucs_basic']) {
      assert.equal(classify(parseStatements(sql)[0]!, ['public']).kind, 'read', sql)
    }
  })

  test('system_user is refused everywhere, current_query() over the events (0A000); current_query() over the catalog passes', () => {
    for (const sql of ['SELECT system_user', 'SELECT count(*) FROM alerts WHERE system_user IS NULL', 'SELECT current_query() FROM alerts LIMIT 1']) {
      const c = classify(parseStatements(sql)[0]!, ['public'])
      assert.ok(c.kind === 'denied' && c.error.code === '0A000' && /(system_user|current_query\(\)) .*is not supported by Fedgres/.test(c.error.message), sql)
    }
    assert.deepEqual(classify(parseStatements('SELECT current_query()')[0]!, ['public']), { kind: 'read', target: 'local', setsConfig: false })
  })

  test('advisory locks are refused (0A000), in catalog and data statements; pg_notify() is NOTIFY', () => {
    for (const sql of ['SELECT pg_advisory_lock(1)', 'SELECT pg_try_advisory_xact_lock_shared(1, 2)', 'SELECT count(*) FROM alerts WHERE pg_catalog.pg_advisory_unlock_all() IS NULL']) {
      const c = classify(parseStatements(sql)[0]!, ['public'])
      assert.ok(c.kind === 'denied' && c.error.code === '0A000' && /advisory/.test(c.error.message) && /share one catalog engine/.test(c.error.hint ?? ''), sql)
    }
    assert.deepEqual(classify(parseStatements("SELECT pg_notify('ch', 'payload')")[0]!, ['public']), { kind: 'write', command: 'NOTIFY' })
    assert.deepEqual(classify(parseStatements('SELECT advisory_lock FROM (SELECT 1 AS advisory_lock) s')[0]!, ['public']), { kind: 'read', target: 'local', setsConfig: false })
  })

  test('encoding conversions PGlite cannot run are refused (0A000), in reads, cursors and COPY', () => {
    for (const sql of ["SELECT convert_to('é', 'LATIN1')", "SELECT convert_from(convert_to(host_name, 'UTF8'), 'EUC_JP') FROM alerts", 'SELECT convert_to($1, $2)',
      "DECLARE c CURSOR FOR SELECT convert('\\xc3a9', 'UTF8', 'LATIN1')", "COPY (SELECT convert_to(host_name, 'KOI8R') FROM logs) TO STDOUT"]) {
      const c = classify(parseStatements(sql)[0]!, ['public'])
      assert.ok(c.kind === 'denied' && c.error.code === '0A000', sql)
    }
    assert.equal(classify(parseStatements("SELECT convert_from('\\xe9', 'latin1'), convert_to('é', 'UTF8')")[0]!, ['public']).kind, 'read')
  })
})

