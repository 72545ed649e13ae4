/**
 * The README's first command, as a new user runs it: a fresh copy of the repository (the files
 * a clone would hold), `npm ci`, then `npm start -- --port <free>` in its own process group. It
 * waits for the printed psql command, runs it exactly as printed until rows from every edge
 * arrive, then presses Ctrl-C (SIGINT to the whole group, as a terminal does) and expects the
 * demo to stop cleanly, leaving no process behind.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { execFile } from 'node:child_process'
import { repoRoot } from '../../common/paths.js'
import { freePort } from '../helpers/free-port.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const run = promisify(execFile)

/** The files a clone holds now: tracked ones and new ones not ignored. */
function copyAsClone(to: string): void {
  const root = repoRoot()
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).toString().split('\0').filter(Boolean)
  for (const f of files) {
    try {
      if (!statSync(join(root, f)).isFile()) continue
    } catch {
      continue // deleted in the work tree
    }
    mkdirSync(dirname(join(to, f)), { recursive: true })
    copyFileSync(join(root, f), join(to, f))
  }
}

const alive = (pgid: number) => {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

test('npm ci && npm start from a fresh copy: the printed psql command sees every edge; Ctrl-C stops it all', { timeout: 600_000 }, async () => {
  const dir = tempDir('fedgres-clone-')
  const clone = join(dir.path, 'fedgres')
  copyAsClone(clone)
  await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, maxBuffer: 64 << 20 })
  const port = await freePort()
  const npm = spawn('npm', ['start', '--', '--port', String(port)], { cwd: clone, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  npm.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  npm.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | string>((r) => npm.on('exit', (code, signal) => r(code ?? signal ?? -1)))
  try {
    await waitFor('the printed psql command', () => /^psql +PGPASSWORD=/m.test(out), 300_000, 250)
    const line = /^psql +(PGPASSWORD=.*)$/m.exec(out)![1]!
    assert.match(line, new RegExp(`port=${port}`))
    const psql = async (sql: string) => (await run('sh', ['-c', `${line} -Atc "${sql}"`], { cwd: clone })).stdout.trim()
    await waitFor('rows from all 3 edges', async () => (await psql('SELECT count(DISTINCT edge_id) FROM logs')) === '3', 60_000, 500)
    assert.ok(Number(await psql('SELECT count(*) FROM alerts')) > 0)

    process.kill(-npm.pid!, 'SIGINT')
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 30 s after Ctrl-C'), 30_000))])
    assert.ok(code === 0 || code === 130 || code === 'SIGINT', `npm start ended with ${code}; stderr:\n${err.slice(-2000)}`)
    assert.match(out, /^Stopped\.$/m, 'the demo said it stopped')
    await waitFor('no process left in the group', () => !alive(npm.pid!), 10_000, 100)
  } finally {
    if (alive(npm.pid!)) process.kill(-npm.pid!, 'SIGKILL')
    dir.dispose()
  }
})
