/**
 * The demo as a new user meets it (what `npm start` runs after building): it prints a psql
 * command, that command works with psql and sees rows from every edge, and Ctrl-C stops it
 * cleanly. A second start reuses the stored data.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startCli } from '../helpers/cli-process.js'
import { freePort } from '../helpers/free-port.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const run = promisify(execFile)

async function psqlFromBanner(out: string, sql: string): Promise<string> {
  const line = out.split('\n').find((l) => l.startsWith('psql:'))!
  const m = /PGPASSWORD='([^']+)' psql "([^"]+)"/.exec(line)
  assert.ok(m, `no psql command in:\n${out}`)
  const { stdout } = await run('psql', [m[2]!, '-At', '-c', sql], { env: { ...process.env, PGPASSWORD: m[1] } })
  return stdout.trim()
}

test('the demo prints a psql command that sees every edge, stops cleanly on SIGINT, and keeps its data', async () => {
  const dir = tempDir('fedgres-demo-')
  const port = await freePort()
  const args = ['demo', '--port', String(port), '--data-dir', dir.path, '--edges', '3', '--rate', '100']
  try {
    const first = startCli(args)
    await waitFor('banner', () => first.stdoutText().includes('Try:'), 90_000, 200)
    const edges = await waitFor('rows from every edge', async () => (await psqlFromBanner(first.stdoutText(), 'SELECT count(DISTINCT edge_id) FROM logs')) === '3', 30_000, 500)
    assert.ok(edges)
    const before = Number(await psqlFromBanner(first.stdoutText(), 'SELECT count(*) FROM logs'))
    assert.ok(before > 0)
    first.kill('SIGINT')
    assert.equal(await first.exited, 0)
    assert.match(first.stdoutText(), /Stopped\./)

    const second = startCli(args)
    await waitFor('banner again', () => second.stdoutText().includes('Try:'), 90_000, 200)
    const after = Number(await psqlFromBanner(second.stdoutText(), 'SELECT count(*) FROM logs'))
    assert.ok(after >= before, `second start sees ${after} rows, first had ${before}`)
    second.kill('SIGINT')
    assert.equal(await second.exited, 0)
  } finally {
    dir.dispose()
  }
})
