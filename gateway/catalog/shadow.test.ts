/**
 * What crosses to the catalog worker is an exchange's own bytes: postMessage clones a view's whole
 * ArrayBuffer, and an exchange is a view into its encoder's slab, which one large gather grew to
 * hundreds of MB (after it, every exchange copied the slab to the worker, and the engine was slow
 * for every session).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { MessagePort } from 'node:worker_threads'
import { rootLogger } from '../../common/log.js'
import { FrontendEncoder } from '../../common/pgwire/index.js'
import { Shadow } from './shadow.js'
import { splitReply, rowTexts } from '../session/shadow-exchange.js'

let shadow: Shadow | undefined
before(async () => {
  shadow = await Shadow.start({ users: ['analyst'], statementTimeoutMs: 30_000, maxResultBytes: 256 * 1024 * 1024, log: rootLogger('test', 'error') })
})
after(async () => {
  await shadow?.close()
})

test('an exchange that is a view into a large buffer posts only its own bytes', async (t) => {
  const posted: number[] = []
  const post = MessagePort.prototype.postMessage
  t.mock.method(MessagePort.prototype, 'postMessage', function (this: MessagePort, msg: unknown, transfer?: readonly ArrayBuffer[]) {
    const bytes = (msg as { op?: string; bytes?: Uint8Array }).op === 'run' ? (msg as { bytes: Uint8Array }).bytes : undefined
    if (bytes) posted.push(bytes.buffer.byteLength)
    return post.call(this, msg, transfer as never)
  })
  const exchange = new FrontendEncoder().query('SELECT 41 + 1').take()
  const slab = new Uint8Array(16 * 1024 * 1024)
  slab.set(exchange, 1000)
  const view = slab.subarray(1000, 1000 + exchange.length)
  const out = splitReply(await shadow!.run({ key: 'one', setup: 'SET ROLE "analyst";' }, view, 1))
  assert.deepEqual(out.result!.rows.map((r) => rowTexts(r)), [['42']])
  assert.deepEqual(posted, [exchange.length])
  assert.ok(view.every((b, i) => b === exchange[i]), 'the caller keeps its bytes (to send again after a restart)')
})
