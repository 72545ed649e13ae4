import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAlert, type FiredAlert } from './alert.js'
import { Outbox, type OutboxEntry } from './outbox.js'
import { captureLogger } from '../../test/helpers/capture-logger.js'

const root = mkdtempSync(join(tmpdir(), 'fedgres-outbox-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => join(root, `d${++dirs}`)

const alert = (n: number): FiredAlert => createAlert({ rule: 'r', kind: 'event', edgeId: 'e', summary: `alert ${n}`, details: { n } }, 1_700_000_000_000 + n)
const open = (dir: string, extra: { maxAlerts?: number; compactAfter?: number; onDrop?: (e: OutboxEntry) => void } = {}) => {
  const { log, entries } = captureLogger()
  return { box: new Outbox({ dir, maxAlerts: extra.maxAlerts ?? 1000, compactAfter: extra.compactAfter, log, onDrop: extra.onDrop }), logs: entries }
}
const pendingOf = (box: Outbox) => [...box.entries()].map((e) => [e.alert.summary, [...e.pending].sort()])
const fileLines = (dir: string) => readFileSync(join(dir, 'outbox.jsonl'), 'utf8').split('\n').filter(Boolean)

test('an appended alert is in the file once `durable` resolves, and a new outbox over the dir has it waiting', async () => {
  const dir = freshDir()
  const { box } = open(dir)
  const a = alert(1)
  const { seq, durable } = box.append(a, ['hook', 'siem'])
  assert.equal(seq, 1)
  await durable
  assert.equal(fileLines(dir).length, 1)
  // No close(): as after a kill -9.
  const again = open(dir).box
  assert.deepEqual(again.get(1)?.alert, a)
  assert.deepEqual(pendingOf(again), [['alert 1', ['hook', 'siem']]])
  assert.equal(again.append(alert(2), ['hook']).seq, 2, 'numbering goes on')
  await again.close()
})

test('settled sinks stay settled after reopening; an alert settled for all its sinks is gone', async () => {
  const dir = freshDir()
  const { box } = open(dir)
  await box.append(alert(1), ['hook', 'siem']).durable
  await box.append(alert(2), ['hook']).durable
  box.settle(1, 'hook')
  box.settle(2, 'hook')
  box.settle(2, 'hook') // twice is harmless
  assert.equal(box.size, 1)
  await box.flush()
  const again = open(dir).box
  assert.deepEqual(pendingOf(again), [['alert 1', ['siem']]])
  await again.close()
  await box.close()
})

test('a torn last line (a crash mid-write) is dropped, the rest kept, and the file repaired', async () => {
  const dir = freshDir()
  const { box } = open(dir)
  await box.append(alert(1), ['hook']).durable
  await box.close()
  appendFileSync(join(dir, 'outbox.jsonl'), '{"seq":2,"sinks":["hook"],"alert":{"id":"x","ru')
  const { box: again, logs } = open(dir)
  assert.deepEqual(pendingOf(again), [['alert 1', ['hook']]])
  assert.ok(logs.some((l) => String(l.message).includes('torn line')))
  assert.ok(readFileSync(join(dir, 'outbox.jsonl'), 'utf8').endsWith('\n'), 'rewritten without the fragment')
  await again.append(alert(3), ['hook']).durable
  assert.deepEqual(pendingOf(open(dir).box), [['alert 1', ['hook']], ['alert 3', ['hook']]], 'lines written after the repair read back')
  await again.close()
})

test('past maxAlerts the oldest waiting alert is dropped, told to onDrop, and stays dropped after reopening', async () => {
  const dir = freshDir()
  const dropped: string[] = []
  const { box } = open(dir, { maxAlerts: 3, onDrop: (e) => dropped.push(e.alert.summary) })
  for (let n = 1; n <= 5; n++) box.append(alert(n), ['hook'])
  await box.flush()
  assert.deepEqual(dropped, ['alert 1', 'alert 2'])
  assert.deepEqual(pendingOf(box).map(([s]) => s), ['alert 3', 'alert 4', 'alert 5'])
  assert.deepEqual(pendingOf(open(dir, { maxAlerts: 3 }).box).map(([s]) => s), ['alert 3', 'alert 4', 'alert 5'])
  await box.close()
})

test('compaction keeps the file near the live alerts and keeps the numbering', async () => {
  const dir = freshDir()
  const { box } = open(dir, { compactAfter: 50 })
  for (let n = 1; n <= 400; n++) {
    const { seq } = box.append(alert(n), ['hook'])
    if (n % 10 !== 0) box.settle(seq, 'hook')
    if (n % 25 === 0) await box.flush()
  }
  await box.flush()
  const lines = fileLines(dir).length
  assert.ok(lines < 150, `file has ${lines} lines for 40 live alerts (800 written)`)
  await box.close()
  const again = open(dir).box
  assert.equal(again.size, 40)
  assert.deepEqual([...again.entries()].map((e) => e.seq).slice(0, 3), [10, 20, 30])
  assert.equal(again.append(alert(401), ['hook']).seq, 401)
  await again.close()
})

test('a reopened outbox with nothing live rewrites the file down to its numbering', async () => {
  const dir = freshDir()
  const { box } = open(dir)
  for (let n = 1; n <= 20; n++) box.settle(box.append(alert(n), ['hook']).seq, 'hook')
  await box.close()
  assert.equal(fileLines(dir).length, 40)
  const again = open(dir).box
  assert.deepEqual(fileLines(dir), ['{"next":21}'])
  assert.equal(again.append(alert(21), []).seq, 21, 'an alert with no sinks is numbered but not stored')
  assert.equal(again.size, 0)
  await again.close()
})
