/**
 * The ported Grafana rewrites give Grafana's own answers: the cases below are the expectations of
 * grafana/grafana pkg/tsdb/grafana-postgresql-datasource/macros_test.go and of
 * public/app/plugins/datasource/grafana-postgresql-datasource/interpolationTruthTable.test.ts,
 * plus Go's formatting rules where the dashboard relies on them.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { expandGrafanaMacros, formatInterval, goFloat, goParseDuration, parseInterval, rfc3339Nano, stripSqlComments } from '../helpers/grafana-macros.js'
import { panelScopedVars, replaceTemplateVariables, secondsToHms, type DashboardVariable } from './template-srv.js'

const from = new Date(Date.UTC(2018, 3, 12, 18, 0, 0))
const to = new Date(from.getTime() + 5 * 60_000)
const ctx = { range: { from, to }, intervalMs: 10 * 60_000 }
const expand = (sql: string, extra: Partial<typeof ctx> & { timescaledb?: boolean } = {}) => expandGrafanaMacros(sql, { ...ctx, ...extra })

describe('Grafana PostgreSQL macros (macros_test.go)', () => {
  const cases: [string, string, string][] = [
    ['__time', 'select $__time(time_column)', 'select time_column AS "time"'],
    ['__time inside an aggregate', 'select min($__time(time_column))', 'select min(time_column AS "time")'],
    ['__timeFilter', 'WHERE $__timeFilter(time_column)', "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"],
    ['__timeFrom', 'select $__timeFrom()', "select '2018-04-12T18:00:00Z'"],
    ['__timeTo', 'select $__timeTo()', "select '2018-04-12T18:05:00Z'"],
    ['__timeGroup followed by a comma gets the alias (pre 5.3)', "SELECT $__timeGroup(time_column,'5m'), value", 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'],
    ['__timeGroup with its own alias', "SELECT $__timeGroup(time_column,'5m') as time, value", 'SELECT floor(extract(epoch from time_column)/300)*300 as time, value'],
    ['__timeGroup', "SELECT $__timeGroup(time_column,'5m')", 'SELECT floor(extract(epoch from time_column)/300)*300'],
    ['__timeGroupAlias', "SELECT $__timeGroupAlias(time_column,'5m')", 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"'],
    ['__timeGroup with spaces between args', "$__timeGroup(time_column , '5m')", 'floor(extract(epoch from time_column)/300)*300'],
    ['__unixEpochFilter', 'select $__unixEpochFilter(time)', `select time >= ${from.getTime() / 1000} AND time <= ${to.getTime() / 1000}`],
    ['__unixEpochNanoFilter', 'select $__unixEpochNanoFilter(time)', `select time >= ${from.getTime()}000000 AND time <= ${to.getTime()}000000`],
    ['__unixEpochNanoFrom', 'select $__unixEpochNanoFrom()', `select ${from.getTime()}000000`],
    ['__unixEpochNanoTo', 'select $__unixEpochNanoTo()', `select ${to.getTime()}000000`],
    ['__unixEpochGroup', "SELECT $__unixEpochGroup(time_column+time_adjustment,'5m')", 'SELECT floor((time_column+time_adjustment)/300)*300'],
    ['__unixEpochGroupAlias', "SELECT $__unixEpochGroupAlias(time_column+time_adjustment,'5m')", 'SELECT floor((time_column+time_adjustment)/300)*300 AS "time"'],
    ['$__interval (sqleng.Interpolate)', 'SELECT $__interval', 'SELECT 10m'],
    ['$__interval_ms is replaced before $__interval', 'SELECT $__interval_ms, $__interval', 'SELECT 600000, 10m'],
    ['$__unixEpochFrom() and $__unixEpochTo()', 'SELECT $__unixEpochFrom(), $__unixEpochTo()', `SELECT ${from.getTime() / 1000}, ${to.getTime() / 1000}`],
  ]
  for (const [title, sql, want] of cases) test(title, () => assert.equal(expand(sql), want))

  test('TimescaleDB: __timeGroup becomes time_bucket with %.3f seconds', () => {
    assert.equal(expand("GROUP BY $__timeGroup(time_column,'5m')", { timescaledb: true }), "GROUP BY time_bucket('300.000s',time_column)")
    assert.equal(expand("GROUP BY $__timeGroup(time_column , '12d')", { timescaledb: true }), "GROUP BY time_bucket('1036800.000s',time_column)")
    assert.equal(expand("GROUP BY $__timeGroup(time_column , '20ms')", { timescaledb: true }), "GROUP BY time_bucket('0.020s',time_column)")
  })

  test('fractional seconds are printed as Go prints them: 1960-02-01T07:00:00.5Z', () => {
    const half = new Date(Date.UTC(1960, 1, 1, 7, 0, 0, 500))
    assert.equal(rfc3339Nano(half), '1960-02-01T07:00:00.5Z')
    assert.equal(expand('WHERE $__timeFilter(t)', { range: { from: half, to } }), "WHERE t BETWEEN '1960-02-01T07:00:00.5Z' AND '2018-04-12T18:05:00Z'")
  })

  test('unknown macros and bad intervals fail as in Grafana', () => {
    assert.throws(() => expand('SELECT $__nope(x)'), /unknown macro "__nope"/)
    assert.throws(() => expand("SELECT $__timeGroup(t, 'soon')"), /error parsing interval 'soon'/)
    assert.throws(() => expand('SELECT $__timeGroup(t)'), /needs time column and interval/)
    assert.throws(() => expand("SELECT $__timeGroup(t, '5m', sometimes)"), /error parsing fill value sometimes/)
  })

  test('comments are stripped, but not inside quotes or dollar quotes', () => {
    assert.equal(stripSqlComments("SELECT '-- in string' AS a -- real comment"), "SELECT '-- in string' AS a ")
    assert.equal(stripSqlComments('SELECT /*\n  multiline\n*/ 1'), 'SELECT  1')
    assert.equal(stripSqlComments('SELECT "col -- name" FROM t'), 'SELECT "col -- name" FROM t')
    assert.equal(stripSqlComments("SELECT 'it''s fine -- not a comment' AS v"), "SELECT 'it''s fine -- not a comment' AS v")
    assert.equal(stripSqlComments('SELECT $body$ -- not a comment $body$'), 'SELECT $body$ -- not a comment $body$')
    assert.equal(stripSqlComments('SELECT $__timeFrom() -- comment'), 'SELECT $__timeFrom() ')
  })
})

describe('Go formatting used in the expansions', () => {
  test('%v of a float64', () => {
    assert.deepEqual([300, 0.2, 86400, 604800, 1e6, 2592000, 0.0001, 0.00001].map(goFloat), ['300', '0.2', '86400', '604800', '1e+06', '2.592e+06', '0.0001', '1e-05'])
  })
  test('time.ParseDuration and gtime.ParseInterval', () => {
    assert.equal(goParseDuration('1h30m'), 5_400_000_000_000n)
    assert.equal(goParseDuration('1.5s'), 1_500_000_000n)
    assert.equal(goParseDuration('200ms'), 200_000_000n)
    assert.throws(() => goParseDuration('5'), /invalid duration/)
    assert.equal(parseInterval('2d'), 2n * 86_400_000_000_000n)
    assert.equal(parseInterval('1w'), 7n * 86_400_000_000_000n)
  })
  test('gtime.FormatInterval keeps the largest whole unit', () => {
    assert.deepEqual([90_000_000_000n, 3_600_000_000_000n, 500_000n, 200_000_000n].map(formatInterval), ['1m', '1h', '1ms', '200ms'])
  })
})

describe('Grafana template variables (interpolationTruthTable.test.ts)', () => {
  const v = (name: string, current: DashboardVariable['current'], extra: Partial<DashboardVariable> = {}): DashboardVariable => ({
    name, current, multi: false, includeAll: false, options: [], ...extra,
  })
  test('a single value has its quotes doubled and no quotes added', () => {
    assert.equal(replaceTemplateVariables("SELECT * FROM users WHERE name = '$user'", [v('user', "O'Brien")]), "SELECT * FROM users WHERE name = 'O''Brien'")
    assert.equal(replaceTemplateVariables('WHERE host = $host', [v('host', 'server01')]), 'WHERE host = server01')
  })
  test('several values become quoted literals', () => {
    const users = v('users', ["O'Brien", "D'Angelo"], { multi: true })
    assert.equal(replaceTemplateVariables('WHERE name IN ($users)', [users]), "WHERE name IN ('O''Brien','D''Angelo')")
    assert.equal(replaceTemplateVariables('WHERE name IN (${users})', [users]), "WHERE name IN ('O''Brien','D''Angelo')")
  })
  test('All expands to every option, or to the custom all value unformatted', () => {
    assert.equal(replaceTemplateVariables('region IN ($region)', [v('region', '$__all', { includeAll: true, multi: true, options: ['us', 'eu'] })]), "region IN ('us','eu')")
    assert.equal(replaceTemplateVariables('hostname ~ $host', [v('host', ['$__all'], { includeAll: true, allValue: '.*' })]), 'hostname ~ .*')
  })
  test('macros and unknown names pass through; built-in interval variables are replaced', () => {
    const scoped = panelScopedVars(60_000, from, to)
    assert.equal(replaceTemplateVariables('SELECT $__timeGroupAlias(ts, $__interval) WHERE $__timeFilter(ts) AND $nope', [], scoped), 'SELECT $__timeGroupAlias(ts, 1m) WHERE $__timeFilter(ts) AND $nope')
    assert.equal(replaceTemplateVariables('$__interval_ms $__from', [], scoped), `60000 ${from.getTime()}`)
  })
  test('rangeutil.secondsToHms names $__interval', () => {
    assert.deepEqual([0.2, 10, 60, 90, 3600, 86400, 31536000].map(secondsToHms), ['200ms', '10s', '1m', '1m', '1h', '1d', '1y'])
  })
})
