import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { rootLogger } from '../common/log.js'
import { KubeArmorEventSource } from '../event-source/server.js'
import { edgeConfig } from '../test/helpers/edge-fixtures.js'
import { tempDir } from '../test/helpers/temp-dir.js'
import { waitFor } from '../test/helpers/wait.js'
import { EdgeAgent } from './agent.js'
import { checkDataDirIdentity, DataDirIdentityError, recordDataDirIdentity } from './data-dir-identity.js'

const dir = tempDir('fedgres-identity-')
after(() => dir.dispose())

test('a new data dir has no identity; once recorded, the same id matches and another is refused naming both', () => {
  assert.equal(checkDataDirIdentity(dir.path, 'rs'), 'absent')
  recordDataDirIdentity(dir.path, 'rs', [])
  assert.equal((JSON.parse(readFileSync(join(dir.path, 'identity.json'), 'utf8')) as { shard: string }).shard, 'rs')
  assert.equal(checkDataDirIdentity(dir.path, 'rs'), 'match')
  assert.throws(() => checkDataDirIdentity(dir.path, 'r2'), (e: unknown) => e instanceof DataDirIdentityError && /holds the rows of shard 'rs'.*as 'r2'.*set shard: rs/.test(e.message))
  assert.ok(!existsSync(join(dir.path, 'identity.json.tmp')))
  // Rows already stored under another id (a data dir older than identity records) are not recorded over.
  const old = join(dir.path, 'old')
  mkdirSync(old)
  assert.throws(() => recordDataDirIdentity(old, 'r2', ['rs']), DataDirIdentityError)
  assert.ok(!existsSync(join(old, 'identity.json')))
})

test('an unreadable identity is an error, not a fresh start', () => {
  const other = join(dir.path, 'bad')
  mkdirSync(other)
  writeFileSync(join(other, 'identity.json'), '{}')
  assert.throws(() => checkDataDirIdentity(other, 'x'), /no shard in it/)
})

test('an agent started on a data dir of another shard refuses before opening its store, and releases the data dir', async () => {
  const d = join(dir.path, 'agent')
  mkdirSync(d)
  recordDataDirIdentity(d, 'edge-a', [])
  const cfg = edgeConfig(d, ['127.0.0.1:1'], { edge_id: 'edge-b' })
  await assert.rejects(EdgeAgent.start(cfg, rootLogger('test', 'error')), DataDirIdentityError)
  assert.ok(!existsSync(join(d, 'fedgres-edge.lock')), 'the lock is released')
  assert.ok(!existsSync(join(d, 'pgdata')), 'no store was created')
})

test('a data dir without an identity record (older agents) is checked against the rows it holds', async () => {
  const d = join(dir.path, 'upgraded')
  const src = new KubeArmorEventSource({ hosts: ['h-old'], rate: 0, port: 0, limit: 50 })
  await src.start()
  try {
    const first = await EdgeAgent.start(edgeConfig(d, [src.address], { edge_id: 'edge-old', shard: 'rs' }), rootLogger('test', 'error'))
    await waitFor('subscribed', () => src.subscribers('logs') > 0)
    src.setRate(500)
    await waitFor('rows stored', () => first.counters.stored === 50, 10_000)
    await first.stop()
    rmSync(join(d, 'identity.json')) // as an agent older than the record left it
    await assert.rejects(EdgeAgent.start(edgeConfig(d, [src.address], { edge_id: 'edge-old' }), rootLogger('test', 'error')), /holds the rows of shard 'rs'/)
    assert.ok(!existsSync(join(d, 'identity.json')), 'nothing recorded')
    const again = await EdgeAgent.start(edgeConfig(d, [src.address], { edge_id: 'edge-old', shard: 'rs' }), rootLogger('test', 'error'))
    await again.stop()
    assert.equal(checkDataDirIdentity(d, 'rs'), 'match', 'recorded once the rows agree')
  } finally {
    await src.stop()
  }
})
