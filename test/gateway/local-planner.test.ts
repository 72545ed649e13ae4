/**
 * The local engine's statements run without nested-loop joins (local-engine.ts), and the setting
 * lasts for that statement only: the session sharing the engine never sees it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rootLogger } from '../../common/log.js'
import { Shadow } from '../../gateway/catalog/shadow.js'
import { ShadowRunner, rowTexts } from '../../gateway/session/shadow-exchange.js'

let shadow: Shadow | undefined
before(async () => {
  shadow = await Shadow.start({ users: ['analyst'], statementTimeoutMs: 30_000, log: rootLogger('test', 'error') })
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
