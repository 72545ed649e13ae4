import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadParser, parseStatements } from './sql-parse.js'

before(() => loadParser())

const codeOf = (sql: string) => {
  try {
    parseStatements(sql)
  } catch (e) {
    return (e as { code?: string }).code
  }
  return 'parsed'
}

test("the parser's errors carry PostgreSQL's SQLSTATE, not always 42601", () => {
  for (const [sql, code] of [
    ['SELECT count(*) OVER (ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM logs', '42P20'],
    ['SELECT count(*) OVER (ROWS UNBOUNDED FOLLOWING) FROM logs', '42P20'],
    ['SELECT count(*) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED PRECEDING) FROM logs', '42P20'],
    ['SELECT count(*) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM logs', '42P20'],
    ['SELECT count(*) OVER (ROWS 1 FOLLOWING) FROM logs', '42P20'],
    ['SELECT pid::float(0) FROM logs', '22023'],
    ['SELECT pid::float(60) FROM logs', '22023'],
    ["SELECT E'\\u00'", '22025'],
    ["SELECT U&'\\zzzz'", '42601'],
    ['SELECT 1 WHERE UNIQUE (SELECT 1)', '0A000'],
    ['SELEC 1', '42601'],
    ['SELECT time FROM logs ORDER BY time ORDER BY time', '42601'],
  ] as const) {
    assert.equal(codeOf(sql), code, sql)
  }
})
