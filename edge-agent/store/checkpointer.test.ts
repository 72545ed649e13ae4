import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { PGlite } from '@electric-sql/pglite'
import { Checkpointer } from './checkpointer.js'

let db: PGlite
before(async () => {
  db = await PGlite.create()
  await db.exec('CREATE TABLE t (v text)')
})
after(() => db.close())

const redoLsn = async () => (await db.query<{ redo: string }>('SELECT redo_lsn::text AS redo FROM pg_control_checkpoint()')).rows[0]!.redo
const write = (rows: number) => db.exec(`INSERT INTO t SELECT repeat('x', 100) FROM generate_series(1, ${rows})`)

test('PGlite never checkpoints by itself; the checkpointer does once walBytes of WAL are written', async () => {
  const cp = new Checkpointer(db, { walBytes: 1 << 20, intervalMs: 3_600_000, checkMs: 0 }, 0)
  await cp.runIfDue(0) // whatever the opening left
  const redo = await redoLsn()
  await write(2_000) // about 300 kB of WAL
  assert.equal(await cp.runIfDue(1), null)
  await write(20_000)
  assert.equal(await redoLsn(), redo, 'no checkpoint without the checkpointer')
  const done = await cp.runIfDue(2)
  assert.equal(done?.cause, 'wal')
  assert.ok(done.walBytes >= 1 << 20, `${done.walBytes} bytes since the redo point`)
  assert.notEqual(await redoLsn(), redo, 'the redo point moved')
  assert.equal(await cp.runIfDue(3), null, 'nothing due right after')
})

test('after intervalMs a checkpoint runs only if WAL was written since the last one', async () => {
  const cp = new Checkpointer(db, { walBytes: 1 << 30, intervalMs: 1000, checkMs: 0 }, 0)
  await write(10)
  assert.equal(await cp.runIfDue(999), null, 'not yet')
  assert.equal((await cp.runIfDue(1000))?.cause, 'time')
  assert.equal(await cp.runIfDue(5000), null, 'idle since: nothing to do')
  await write(1)
  assert.equal((await cp.runIfDue(5000))?.cause, 'time')
  await write(1)
  assert.equal(await cp.runIfDue(5500), null, 'the interval counts from the last checkpoint')
  assert.equal((await cp.runIfDue(6500))?.cause, 'time')
})

test('the WAL position is looked at no more than once per checkMs', async () => {
  const cp = new Checkpointer(db, { walBytes: 1, intervalMs: 3_600_000, checkMs: 1000 }, 0)
  await write(10)
  assert.equal((await cp.runIfDue(0))?.cause, 'wal')
  await write(10)
  assert.equal(await cp.runIfDue(500), null, 'not looked at yet')
  assert.equal((await cp.runIfDue(1000))?.cause, 'wal')
})
