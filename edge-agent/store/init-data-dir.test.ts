import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from '../../test/helpers/temp-dir.js'
import { initDataDir } from './init-data-dir.js'

/** Runs `fn` with the path of a `pgdata` in a fresh temp dir, removed afterwards. */
async function withPgdata(fn: (pgdata: string) => Promise<void>): Promise<void> {
  const dir = tempDir()
  try {
    await fn(join(dir.path, 'pgdata'))
  } finally {
    dir.dispose()
  }
}

test('a new data dir is made by a child process, then renamed into place; a leftover half-made one is cleared first', () =>
  withPgdata(async (pgdata) => {
    // What an agent killed during initdb leaves: the dir being built, and an empty final path.
    mkdirSync(`${pgdata}.creating`)
    writeFileSync(join(`${pgdata}.creating`, 'PG_VERSION'), '18\n')
    mkdirSync(pgdata)
    const created = await initDataDir(pgdata, '1MB')
    assert.equal(readFileSync(join(pgdata, 'PG_VERSION'), 'utf8').trim(), '18')
    assert.ok(existsSync(join(pgdata, 'global', 'pg_control')), 'a complete cluster')
    assert.equal(existsSync(`${pgdata}.creating`), false)
    // initdb's memory was the child's: its peak is reported, and it is far above this process's own.
    assert.ok(created.peakRssBytes > process.resourceUsage().maxRSS * 1024, `child peak ${created.peakRssBytes}`)
    assert.ok(created.ms > 0)
  }))

test('a non-empty dir without PG_VERSION is refused, never deleted', () =>
  withPgdata(async (pgdata) => {
    mkdirSync(pgdata)
    writeFileSync(join(pgdata, 'something.dat'), 'not ours to delete')
    await assert.rejects(initDataDir(pgdata, '1MB'), /exists but is not a PostgreSQL data dir \(it has no PG_VERSION\); move it away/)
    assert.equal(readFileSync(join(pgdata, 'something.dat'), 'utf8'), 'not ours to delete')
  }))

test('a failing initdb is reported with its exit and output, and leaves no data dir behind', () =>
  withPgdata(async (pgdata) => {
    await assert.rejects(initDataDir(pgdata, 'not-a-size'), /creating the data dir .*pgdata failed \(exit 1\): Error: PGlite failed/)
    assert.equal(existsSync(pgdata), false)
  }))
