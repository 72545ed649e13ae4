import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SegmentLedger } from './segment-ledger.js'

test('the ledger counts what each segment holds uncommitted, and what a deleted one took', () => {
  const l = new SegmentLedger()
  l.written(3, 10)
  l.written(3, 5)
  l.committed(3, 12)
  assert.equal(l.depth, 3)
  l.written(4, 7)
  assert.equal(l.depth, 10)
  // Segment 3 deleted with 3 records uncommitted; the store moves on to segment 4.
  assert.equal(l.gone(3), 3)
  assert.equal(l.depth, 7)
  l.committed(4, 7)
  assert.equal(l.depth, 0)
  // A segment the agent wrote nothing to since it started: the count is unknown.
  assert.equal(l.gone(2), undefined)
})

test('a commit in a later segment forgets the segments before it', () => {
  const l = new SegmentLedger()
  l.written(1, 4)
  l.committed(1, 4)
  l.written(2, 6)
  l.committed(2, 1)
  assert.equal(l.depth, 5)
  l.written(3, 2)
  l.committed(3, 2)
  assert.equal(l.depth, 0, 'segment 2 is behind the store: nothing of it is waiting')
})
