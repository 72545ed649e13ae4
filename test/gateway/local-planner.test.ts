/**
 * The local engine's statements run without nested-loop joins (local-engine.ts), and the setting
 * lasts for that statement only: the session sharing the engine never sees it. A reply past the
 * engine's size limit is stopped, and the engine answers again.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rootLogger } from '../../common/log.js'
import { Shadow } from '../../gateway/catalog/shadow.js'
import { ShadowRunner, rowTexts } from '../../gateway/session/shadow-exchange.js'

let shadow: Shadow | undefined
before(async () => {
  shadow = await Shadow.start({ users: ['analyst'], statementTimeoutMs: 30_000, maxResultBytes: 8 * 1024 * 1024, log: rootLogger('test', 'error') })
})
after(async () => {
  await shadow?.close()
})

test('planner settings hold for the one statement, and its reply is the statement\'s alone', async () => {
  const runner = new ShadowRunner(shadow!, 1)
  const owner = { key: 'one', setup: 'SET ROLE "analyst";' }
  const out = await runner.bound(owner, { sql: "SELECT pg_catalog.current_setting('enable_nestloop') AS s, $1::int + 1 AS n", paramTypes: [23], params: [Buffer.from('41')], paramFormats: [0], resultFormats: [0], planner: [['enable_nestloop', 'off']] })
  assert.equal(out.error, null)
  assert.deepEqual(out.result!.rows.map((r) => rowTexts(r)), [['off', '42']])
  assert.equal(out.result!.tag(), 'SELECT 1')
  const after = await runner.simple(owner, 'SHOW enable_nestloop')
  assert.deepEqual(after.result!.rows.map((r) => rowTexts(r)), [['on']], 'the session keeps its own value')
  // An error in the statement is the statement's, after the prelude's reply.
  const bad = await runner.bound(owner, { sql: 'SELECT 1/0', paramTypes: [], params: [], paramFormats: [], resultFormats: [], planner: [['enable_nestloop', 'off']] })
  assert.ok(bad.error && bad.error.toString('utf8').includes('division by zero'))
})

test('a reply growing past catalog.max_result_mb is stopped with 54000 before it fills memory, and the engine answers again', async () => {
  const runner = new ShadowRunner(shadow!, 2)
  const owner = { key: 'two', setup: 'SET ROLE "analyst";' }
  const restarts = shadow!.restarts
  const started = performance.now()
  // About 100 MB of rows, a million of them: the engine would write them all before replying.
  await assert.rejects(runner.simple(owner, "SELECT repeat('x', 100) FROM generate_series(1, 1000000)"), (e: Error & { code?: string }) => {
    assert.equal(e.code, '54000')
    assert.match(e.message, /exceeds its limit of 8 MB/)
    return true
  })
  assert.equal(shadow!.restarts, restarts + 1)
  assert.ok(performance.now() - started < 20_000)
  const again = await runner.simple(owner, 'SELECT 41 + 1')
  assert.deepEqual(again.result!.rows.map((r) => rowTexts(r)), [['42']])
  // A reply under the limit is whole.
  const fits = await runner.simple(owner, "SELECT repeat('x', 100) FROM generate_series(1, 10000)")
  assert.equal(fits.result!.rows.length, 10_000)
})
