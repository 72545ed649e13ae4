import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RowQueue } from './row-queue.js'

test('rows come out in the order they went in, across compactions, interleaved pushes and clears', () => {
  const q = new RowQueue()
  const row = (n: number) => Buffer.from(String(n))
  let pushed = 0
  let taken = 0
  // Bursts larger than the compaction threshold, taken partly between them.
  for (const [push, take] of [[30_000, 25_000], [5_000, 9_000], [2_000, 1], [0, 1_999], [3, 3]] as const) {
    for (let i = 0; i < push; i++) q.push(row(pushed++))
    for (let i = 0; i < take; i++) assert.equal(q.shift()?.toString(), String(taken++))
    assert.equal(q.length, pushed - taken)
  }
  while (q.length > 0) assert.equal(q.shift()?.toString(), String(taken++))
  assert.equal(taken, pushed)
  assert.equal(q.shift(), undefined)
  q.push(row(1))
  q.clear()
  assert.equal(q.length, 0)
  assert.equal(q.shift(), undefined)
})
