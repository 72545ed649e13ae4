import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { rootLogger } from '../common/log.js'
import { edgeConfig } from '../test/helpers/edge-fixtures.js'
import { tempDir } from '../test/helpers/temp-dir.js'
import { EdgeAgent } from './agent.js'
import { checkDataDirIdentity, DataDirIdentityError } from './data-dir-identity.js'

const dir = tempDir('fedgres-identity-')
after(() => dir.dispose())

test('the first start records the shard; the same one passes later, another is refused naming both', () => {
  checkDataDirIdentity(dir.path, 'rs')
  assert.equal((JSON.parse(readFileSync(join(dir.path, 'identity.json'), 'utf8')) as { shard: string }).shard, 'rs')
  checkDataDirIdentity(dir.path, 'rs')
  assert.throws(() => checkDataDirIdentity(dir.path, 'r2'), (e: unknown) => e instanceof DataDirIdentityError && /holds the rows of shard 'rs'.*as 'r2'.*set shard: rs/.test(e.message))
  assert.ok(!existsSync(join(dir.path, 'identity.json.tmp')))
})

test('an unreadable identity is an error, not a fresh start', () => {
  const other = join(dir.path, 'bad')
  mkdirSync(other)
  checkDataDirIdentity(other, 'x')
  writeFileSync(join(other, 'identity.json'), '{}')
  assert.throws(() => checkDataDirIdentity(other, 'x'), /no shard in it/)
})

test('an agent started on a data dir of another shard refuses before opening its store, and releases the data dir', async () => {
  const d = join(dir.path, 'agent')
  mkdirSync(d)
  checkDataDirIdentity(d, 'edge-a')
  const cfg = edgeConfig(d, ['127.0.0.1:1'], { edge_id: 'edge-b' })
  await assert.rejects(EdgeAgent.start(cfg, rootLogger('test', 'error')), DataDirIdentityError)
  assert.ok(!existsSync(join(d, 'fedgres-edge.lock')), 'the lock is released')
  assert.ok(!existsSync(join(d, 'pgdata')), 'no store was created')
})
