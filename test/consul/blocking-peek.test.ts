/**
 * The Consul test server's blocking reads render only when their resource index moved: every
 * committed write wakes every blocked query, and a health or KV list of thousands of entries
 * rendered on each write made the server the bottleneck of scale tests (bench/discovery-scale).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { serveBlocking } from './blocking.js'
import { KvStore } from './kv-store.js'
import { RaftLog } from './raft-log.js'

const commit = (log: RaftLog) => log.write(() => ({ changed: true, result: undefined }))

test('a blocked read is not rendered again on writes that leave its index alone', async () => {
  const log = new RaftLog()
  const res = new EventEmitter() as unknown as ServerResponse
  let resource = 5
  let renders = 0
  const reply = serveBlocking(new URLSearchParams({ index: '5', wait: '10s' }), res, log, { waitScale: 1, waitJitter: false }, () => {
    renders++
    return { index: resource, json: [] }
  }, () => resource)
  for (let i = 0; i < 50; i++) commit(log)
  assert.equal(renders, 1, 'only the first evaluation; 50 unrelated writes rendered nothing')
  resource = 9
  commit(log)
  assert.deepEqual(await reply, { index: 9, json: [] })
  assert.equal(renders, 2)
})

test('a reset still returns a blocked read at once, rendered', async () => {
  const log = new RaftLog()
  for (let i = 0; i < 10; i++) commit(log)
  const res = new EventEmitter() as unknown as ServerResponse
  let renders = 0
  const reply = serveBlocking(new URLSearchParams({ index: '10', wait: '10s' }), res, log, { waitScale: 1, waitJitter: false }, () => {
    renders++
    return { index: 10, json: [] }
  }, () => 10)
  log.reset(3)
  assert.deepEqual(await reply, { index: 10, json: [] })
  assert.equal(renders, 2)
})

test('KvStore.prefixIndex is the index of the prefix list, deletions included', () => {
  const log = new RaftLog()
  const kv = new KvStore(log)
  const check = (prefix: string) => assert.equal(kv.prefixIndex(prefix), kv.list(prefix).index, prefix)
  kv.put('a/1', Buffer.from('x'), { flags: 0 })
  kv.put('b/1', Buffer.from('x'), { flags: 0 })
  kv.put('a/2', Buffer.from('y'), { flags: 0 })
  for (const p of ['', 'a/', 'b/', 'c/']) check(p)
  kv.delete('a/2', { recurse: false })
  kv.put('b/2', Buffer.from('z'), { flags: 0 })
  for (const p of ['', 'a/', 'b/', 'c/']) check(p)
  kv.delete('a/', { recurse: true })
  for (const p of ['', 'a/', 'b/', 'c/']) check(p)
})
