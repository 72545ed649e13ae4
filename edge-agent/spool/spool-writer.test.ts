import assert from 'node:assert/strict'
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { after, test } from 'node:test'
import { tempDir } from '../../test/helpers/temp-dir.js'
import { segmentPath, type SpoolPosition } from './spool-files.js'
import { SpoolWriter, type SpoolIo } from './spool-writer.js'

const dir = tempDir('fedgres-spool-writer-')
after(() => dir.dispose())

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 })

/**
 * Real file calls, except that writes fail while `full` is set. The first write after it fills
 * is short, as the kernel's is (half its bytes land and their count is returned); the next fails.
 */
function diskThatFills(): SpoolIo & { full: boolean; failedWrites: number } {
  const io = {
    full: false,
    failedWrites: 0,
    openSync: (p: string, f: number) => openSync(p, f, 0o644),
    writeSync(fd: number, buf: Buffer, off: number, len: number, pos: number): number {
      if (!io.full) return writeSync(fd, buf, off, len, pos)
      if (io.failedWrites++ === 0 && len > 1) return writeSync(fd, buf, off, Math.floor(len / 2), pos)
      throw enospc()
    },
    closeSync: (fd: number) => closeSync(fd),
  }
  return io
}

const line = (i: number) => `row ${i}\tpayload ${'x'.repeat(i % 50)}\n`

test('a full disk: records are held and retried, a torn write is written again, and none is lost or doubled', async () => {
  const io = diskThatFills()
  const flushes: { end: SpoolPosition; records: number }[] = []
  const failures: (string | undefined)[] = []
  const spool = new SpoolWriter({
    dir: dir.path + '/a', onFlush: (end, records) => flushes.push({ end, records }), onWriteError: 'hold', retryMs: 20,
    onFailure: (e) => failures.push(e?.code), io,
  })
  for (let i = 0; i < 100; i++) spool.append('logs', line(i))
  spool.flush()
  assert.equal(flushes.at(-1)!.records, 100)
  io.full = true
  for (let i = 100; i < 300; i++) spool.append(i % 3 === 0 ? 'alerts' : 'logs', line(i))
  spool.flush() // torn (half its bytes land), then refused: no throw
  assert.equal(spool.failure?.code, 'ENOSPC')
  assert.deepEqual(failures, ['ENOSPC'])
  // The whole records of the torn write are written: counted, and held no longer.
  const torn = flushes.slice(1).reduce((n, f) => n + f.records, 0)
  assert.ok(torn > 50 && torn < 150, `${torn} whole records in the torn half`)
  assert.equal(spool.heldRecords, 200 - torn)
  assert.ok(spool.accepting, 'well under the memory cap')
  await new Promise((r) => setTimeout(r, 100))
  assert.ok(io.failedWrites >= 3, `retried (${io.failedWrites} failed writes)`)
  assert.equal(flushes.length, 2, 'nothing more counted while the disk is full')
  for (let i = 300; i < 350; i++) spool.append('logs', line(i))
  io.full = false
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(spool.failure, undefined)
  assert.deepEqual(failures, ['ENOSPC', undefined])
  assert.equal(flushes.reduce((n, f) => n + f.records, 0), 350, 'every record counted once')
  const text = readFileSync(segmentPath(dir.path + '/a', 1), 'utf8')
  const expected = Array.from({ length: 350 }, (_, i) => (i >= 100 && i < 300 && i % 3 === 0 ? 'a' : 'l') + line(i)).join('')
  assert.equal(text, expected, 'the file holds each record once, in order, with no torn bytes')
  assert.equal(flushes.at(-1)!.end.offset, Buffer.byteLength(expected))
  assert.equal(spool.close(), 0)
})

test('past maxHeldBytes a failing spool stops accepting; close() reports what it could not write', () => {
  const io = diskThatFills()
  const spool = new SpoolWriter({ dir: dir.path + '/b', onFlush: () => {}, onWriteError: 'hold', maxHeldBytes: 4096, retryMs: 60_000, io })
  io.full = true
  let n = 0
  spool.append('logs', line(n++))
  spool.flush()
  assert.ok(spool.failure)
  while (spool.accepting) spool.append('logs', line(n++))
  assert.ok(n > 10 && n < 200, `${n} records fill 4 KiB`)
  assert.equal(spool.heldRecords, n)
  assert.equal(spool.close(), n)
})

test("'throw' mode (imports) fails the flush with the write's error", async () => {
  const io = diskThatFills()
  const spool = new SpoolWriter({ dir: dir.path + '/c', onFlush: () => {}, io })
  io.full = true
  spool.append('logs', line(1))
  assert.throws(() => spool.flush(), /ENOSPC/)
  spool.append('logs', line(2)) // a flush scheduled for the next turn fails there
  await new Promise((r) => setImmediate(r))
  assert.throws(() => spool.append('logs', line(3)), /ENOSPC/, 'and its error comes with the next call, not as an uncaught exception')
})

test('a segment that cannot be created (full disk) keeps the current one growing until it can', () => {
  const io = diskThatFills()
  const ends: SpoolPosition[] = []
  const spool = new SpoolWriter({ dir: dir.path + '/d', segmentBytes: 64, onFlush: (end) => ends.push(end), onWriteError: 'hold', io })
  const openSync = io.openSync
  io.openSync = () => {
    throw enospc()
  }
  spool.append('logs', line(40))
  spool.flush()
  spool.append('logs', line(41))
  spool.flush()
  assert.deepEqual(ends.map((e) => e.segment), [1, 1])
  io.openSync = openSync
  spool.append('logs', line(42))
  spool.flush()
  spool.append('logs', line(43))
  spool.flush()
  assert.deepEqual(ends.map((e) => e.segment), [1, 1, 1, 2])
  assert.equal(spool.failure, undefined)
  spool.close()
})

test('a segment deleted under the writer: the next write starts a new segment (its directory made again) and reports the deleted one', () => {
  const gone: number[] = []
  const flushes: SpoolPosition[] = []
  const d = dir.path + '/gone'
  const spool = new SpoolWriter({ dir: d, onFlush: (end) => flushes.push(end), onWriteError: 'hold', onSegmentGone: (s) => gone.push(s) })
  spool.append('logs', line(1))
  spool.flush()
  rmSync(d, { recursive: true })
  spool.append('logs', line(2))
  spool.flush()
  assert.deepEqual(gone, [1])
  assert.deepEqual(flushes, [{ segment: 1, offset: 1 + line(1).length }, { segment: 2, offset: 1 + line(2).length }])
  assert.equal(readFileSync(segmentPath(d, 2), 'utf8'), 'l' + line(2))
  spool.close()
})
