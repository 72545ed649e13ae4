/**
 * A witness query follows each statement in the statement's own exchange: another session's
 * statement, which puts the shared engine in its own state, never comes between them.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { rootLogger } from '../../common/log.js'
import { Shadow } from '../catalog/shadow.js'
import { ShadowRunner, rowTexts } from './shadow-exchange.js'

let shadow: Shadow | undefined
before(async () => {
  shadow = await Shadow.start({ users: ['analyst'], statementTimeoutMs: 30_000, maxResultBytes: 256 * 1024 * 1024, log: rootLogger('test', 'error') })
})
after(async () => {
  await shadow?.close()
})

test("the witness reads the statement's effect before another session's statement runs", async () => {
  const a = new ShadowRunner(shadow!, 1)
  const b = new ShadowRunner(shadow!, 2)
  const ownerA = { key: 'a', setup: 'SET ROLE "analyst";' }
  const ownerB = { key: 'b', setup: 'SET ROLE "analyst";' }
  a.witness("SELECT pg_catalog.current_setting('witness.x', true)")
  // Queued together: without the witness in A's exchange, B's setup (RESET ALL) would come first.
  const [outA, outB] = await Promise.all([a.simple(ownerA, "SELECT pg_catalog.set_config('witness.x', 'set', false)"), b.simple(ownerB, 'SELECT 1')])
  assert.deepEqual(outA.result!.rows.map((r) => rowTexts(r)), [['set']])
  assert.deepEqual(outB.result!.rows.map((r) => rowTexts(r)), [['1']])
  assert.deepEqual(a.unwitness(), [['set']])
  const bound = await a.bound(ownerA, { sql: 'SELECT $1::int + 1', paramTypes: [], params: [Buffer.from('1')], paramFormats: [], resultFormats: [] })
  assert.deepEqual(bound.result!.rows.map((r) => rowTexts(r)), [['2']])
  assert.deepEqual(a.unwitness(), [], 'no witness once ended')
})
