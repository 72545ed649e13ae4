import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule, parseSync } from 'libpg-query'
import { deparseSelect } from './ast.js'
import { fixStatementTime } from './statement-time.js'

before(() => loadModule())

const fixed = (sql: string) => {
  let n = 0
  const select = (parseSync(sql) as { stmts: { stmt: { SelectStmt: Record<string, unknown> } }[] }).stmts[0]!.stmt.SelectStmt
  const out = deparseSelect(fixStatementTime(select, { statementTime: '2026-12-07 12:00:00.5+00', transactionTime: '2026-12-07 11:59:00+00' }, () => n++))
  return { sql: out, fixed: n > 0 }
}

const T = "CAST('2026-12-07 11:59:00+00' AS timestamp with time zone)"

test("'now' cast to a date or time type is the transaction's time, its type and typmod kept", () => {
  for (const [sql, want] of [
    ["SELECT 'now'::timestamptz", `SELECT CAST(${T} AS timestamptz)`],
    ["SELECT timestamptz ' NOW '", `SELECT CAST(${T} AS timestamptz)`],
    ["SELECT 'now'::timestamp(0)", `SELECT CAST(${T} AS timestamp(0))`],
    ["SELECT CAST('now' AS pg_catalog.date)", `SELECT CAST(${T} AS pg_catalog.date)`],
    ["SELECT 'now'::time, 'now'::timetz", `SELECT CAST(${T} AS time), CAST(${T} AS timetz)`],
  ] as const) {
    const r = fixed(sql)
    assert.ok(r.fixed, sql)
    assert.equal(r.sql, want)
  }
})

test("'today', 'tomorrow' and 'yesterday' are the transaction's date (in the session's zone) and its neighbours", () => {
  const r = fixed("SELECT 'today'::timestamptz, 'tomorrow'::date, 'yesterday'::timestamp")
  assert.ok(r.fixed)
  const day = `CAST(${T} AS pg_catalog.date)`
  assert.equal(r.sql, `SELECT CAST(${day} AS timestamptz), CAST((${day} + 1) AS date), CAST((${day} + -1) AS timestamp)`)
})

test('other constants, other types and words in text are left as they are', () => {
  for (const sql of ["SELECT 'now'", "SELECT 'now'::text", "SELECT 'today'::time", "SELECT 'now'::timestamptz[]", "SELECT '2026-10-01'::timestamptz", "SELECT 'epoch'::timestamptz", "SELECT x.now::timestamptz FROM x", "SELECT 'nowhere'::date"]) {
    const r = fixed(sql)
    assert.equal(r.fixed, false, `${sql} -> ${r.sql}`)
  }
})
