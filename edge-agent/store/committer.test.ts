import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { PGlite } from '@electric-sql/pglite'
import { kyselyOnPglite } from '../../common/kysely-pglite.js'
import { migrateToLatest } from '../../schema/index.js'
import { EventGenerator } from '../../event-source/generator.js'
import { encodeRow, eventTime } from '../ingest/event-to-row.js'
import { SpoolWriter } from '../spool/spool-writer.js'
import { tempDir } from '../../test/helpers/temp-dir.js'
import { Checkpointer } from './checkpointer.js'
import { COPY_MESSAGE_BYTES, Committer } from './committer.js'

const dir = tempDir('fedgres-committer-')
after(() => dir.dispose())

test('a batch larger than one COPY message is committed whole, each row once, with its spool position', async () => {
  const db = await PGlite.create()
  try {
    await migrateToLatest(kyselyOnPglite(db), 'edge')
    const spool = new SpoolWriter({ dir: dir.path, onFlush: () => {} })
    const gen = new EventGenerator({ hosts: ['n1'], seed: 3, alertRatio: 0 })
    const seqs: string[] = []
    let bytes = 0
    for (let i = 0; bytes < 2.5 * COPY_MESSAGE_BYTES; i++) {
      const { table, event } = gen.next(1_766_000_000_000_000 + i * 1000)
      const line = encodeRow(table, event, eventTime(event, 0), { edgeId: 'e', tags: [] })
      spool.append(table, line)
      bytes += Buffer.byteLength(line)
      seqs.push((event.EventData as Record<string, string>).Seq)
    }
    spool.flush()
    const committer = new Committer(db, dir.path, 8 << 20, { segment: 1, offset: 0 })
    await committer.loadPartitions()
    const batch = committer.nextBatch(spool.end)
    assert.ok(batch, 'a batch')
    assert.equal(batch.rows, seqs.length, 'one batch holds every row')
    const res = await committer.commit(batch, undefined)
    assert.equal(res.rejected, 0)
    const stored = await db.query<{ seq: string }>(`SELECT event_data->>'Seq' AS seq FROM (SELECT event_data FROM logs UNION ALL SELECT event_data FROM alerts) e`)
    const sorted = (xs: string[]) => [...xs].sort((a, b) => Number(a) - Number(b))
    assert.deepEqual(sorted(stored.rows.map((r) => r.seq)), sorted(seqs), `${seqs.length} rows (${(bytes / 2 ** 20).toFixed(1)} MiB), each once`)
    const state = await db.query<{ committed: string }>(`SELECT committed FROM fedgres_internal.spool_state`)
    assert.equal(Number(state.rows[0]!.committed), seqs.length)
    spool.close()
  } finally {
    await db.close()
  }
})

test('an import commits every batch in one transaction, checkpointing between batches', async () => {
  const db = await PGlite.create()
  try {
    await migrateToLatest(kyselyOnPglite(db), 'edge')
    const staging = `${dir.path}/staging`
    const spool = new SpoolWriter({ dir: staging, onFlush: () => {} })
    const gen = new EventGenerator({ hosts: ['n2'], seed: 4 })
    let n = 0
    for (let bytes = 0; bytes < 1 << 20; n++) {
      const { table, event } = gen.next(1_766_000_000_000_000 + n * 1000)
      const line = encodeRow(table, event, eventTime(event, 0), { edgeId: 'e', tags: [] })
      spool.append(table, line)
      bytes += Buffer.byteLength(line)
    }
    spool.close()
    const committer = new Committer(db, `${dir.path}/unused`, 128 << 10, { segment: 1, offset: 0 })
    await committer.loadPartitions()
    const cp = new Checkpointer(db, { walBytes: 64 << 10, intervalMs: 3_600_000, checkMs: 0 })
    let batches = 0
    let checkpoints = 0
    const rows = await committer.commitAll(staging, { imported: true }, async () => {
      batches++
      if (await cp.runIfDue()) checkpoints++
    })
    assert.equal(rows.alerts + rows.logs, n)
    assert.ok(batches >= 8, `${batches} batches of 128 KiB`)
    assert.ok(checkpoints >= 2, `${checkpoints} checkpoints inside the import's transaction`)
    const stored = await db.query<{ n: number }>(`SELECT (SELECT count(*) FROM logs) + (SELECT count(*) FROM alerts) AS n`)
    assert.equal(Number(stored.rows[0]!.n), n)
  } finally {
    await db.close()
  }
})
