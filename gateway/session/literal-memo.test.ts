import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { BackendEncoder } from '../../common/pgwire/index.js'
import { LiteralMemo, isLiteralSelect } from './literal-memo.js'
import { splitReply } from './shadow-exchange.js'
import { loadParser, parseStatements } from './sql-parse.js'

before(() => loadParser())
const literal = (sql: string) => isLiteralSelect(parseStatements(sql)[0]!)

test('only a SELECT list of plain constants qualifies', () => {
  for (const sql of ['SELECT 1', 'select 1;', "SELECT 'ok' AS status", 'SELECT NULL, true, 1.5, -1, 9999999999, $$x$$', "SELECT B'101', X'1F'"]) {
    assert.equal(literal(sql), true, sql)
  }
  for (const sql of [
    'SELECT 1 + 1', 'SELECT now()', 'SELECT 1::int8', "SELECT '1'::text", 'SELECT CAST(1 AS text)', 'SELECT 1 FROM alerts', 'SELECT 1 LIMIT 1',
    'SELECT 1 OFFSET 0', 'SELECT 1 WHERE false', 'SELECT 1 ORDER BY 1', 'SELECT DISTINCT 1', 'SELECT 1 GROUP BY 1', 'SELECT 1 HAVING true',
    'SELECT 1 UNION SELECT 1', 'VALUES (1)', 'WITH x AS (SELECT 1) SELECT 1', 'SELECT 1 INTO t', 'SELECT 1 FOR UPDATE', 'SELECT $1', 'SELECT current_user',
    'SELECT (SELECT 1)', 'SELECT ARRAY[1]', 'SELECT ROW(1)', 'SHOW TimeZone', 'SELECT * ', 'TABLE alerts',
  ]) {
    let stmt
    try {
      stmt = parseStatements(sql)[0]!
    } catch {
      continue // not even valid SQL: the shadow reports it
    }
    assert.equal(isLiteralSelect(stmt), false, sql)
  }
})

const reply = (enc: BackendEncoder) => splitReply(enc.take())
const clean = () => reply(new BackendEncoder().rowDescription([{ name: '?column?', tableOid: 0, columnAttr: 0, typeOid: 23, typeSize: 4, typeMod: -1, format: 0 }]).dataRow([Buffer.from('1')]).commandComplete('SELECT 1'))

test('keeps a clean reply and hands back a fresh result each time', async () => {
  const m = new LiteralMemo()
  const key = LiteralMemo.key('SELECT 1', [], () => undefined)
  assert.equal(m.get(key), undefined)
  m.put(key, clean())
  for (let i = 0; i < 2; i++) {
    const r = m.get(key)!.result!
    assert.equal((await r.next())?.toString('utf8', 11), '1')
    assert.equal(await r.next(), null)
    assert.equal(r.tag(), 'SELECT 1')
  }
  assert.equal(m.hits, 2)
})

test('never keeps an error, a notice or a changed setting', () => {
  const m = new LiteralMemo()
  const err = reply(new BackendEncoder().errorResponse({ severity: 'ERROR', code: '22003', message: 'out of range' }))
  const withNotice = reply(new BackendEncoder().noticeResponse({ severity: 'WARNING', code: '22P06', message: 'nonstandard use of \\\\ in a string literal' }).rowDescription([]).commandComplete('SELECT 1'))
  const withStatus = { ...clean(), parameterStatus: [Buffer.from('S')] }
  for (const [i, out] of [err, withNotice, withStatus].entries()) m.put(`k${i}`, out)
  assert.equal(m.size, 0)
})

test('the key follows the settings that change a literal, and the result formats', () => {
  const base = LiteralMemo.key('SELECT 1', [], () => undefined)
  assert.notEqual(LiteralMemo.key('SELECT 1', [1], () => undefined), base)
  assert.notEqual(LiteralMemo.key('SELECT 1', [], (n) => (n === 'standard_conforming_strings' ? 'SET standard_conforming_strings = off' : undefined)), base)
  assert.notEqual(LiteralMemo.key('SELECT 1', [], (n) => (n === 'client_encoding' ? "SET client_encoding = 'SQL_ASCII'" : undefined)), base)
  assert.equal(LiteralMemo.key('SELECT 1', [], (n) => (n === 'TimeZone' ? 'SET TimeZone = x' : undefined)), base)
})

test('holds at most 256 replies, dropping the least recently used', () => {
  const m = new LiteralMemo()
  for (let i = 0; i < 256; i++) m.put(`k${i}`, clean())
  m.get('k0') // used again: now the most recent
  m.put('k256', clean())
  assert.equal(m.size, 256)
  assert.ok(m.get('k0'))
  assert.equal(m.get('k1'), undefined)
})
