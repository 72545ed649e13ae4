import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GroupCommit } from './group-commit.js'

test('a full batch goes at once; a partial one after the wait, once', async () => {
  let due = 0
  const g = new GroupCommit(1000, 20, () => due++)
  assert.equal(g.fullBatchOnly(1000), false, 'a full batch is not held')
  assert.equal(g.fullBatchOnly(999), true, 'a partial one waits')
  g.arm(999)
  g.arm(999) // already waiting: no second timer
  await sleep(60)
  assert.equal(due, 1)
  assert.equal(g.fullBatchOnly(10), false, 'after the wait, the partial batch may go')
  g.committing()
  assert.equal(g.fullBatchOnly(10), true, 'the next partial one waits again')
  g.arm(0)
  await sleep(40)
  assert.equal(due, 1, 'nothing ready: no timer')
  g.stop()
})

test('while draining, and with no wait configured, nothing is held', () => {
  const g = new GroupCommit(1000, 20, () => {})
  g.draining = true
  assert.equal(g.fullBatchOnly(1), false)
  assert.equal(new GroupCommit(1000, 0, () => {}).fullBatchOnly(1), false)
})

test('stop cancels a pending wait', async () => {
  let due = 0
  const g = new GroupCommit(1000, 20, () => due++)
  g.arm(5)
  g.stop()
  await sleep(50)
  assert.equal(due, 0)
})
