/** The CLI's front door: every command's --help exits 0, and a bad config names the bad key. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { fedgresBin } from '../helpers/cli-process.js'
import { tempDir } from '../helpers/temp-dir.js'

const run = promisify(execFile)

async function fedgres(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [fedgresBin(), ...args])
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string }
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
}

test('fedgres --help and every command\'s --help exit 0 and describe the command', async () => {
  const main = await fedgres(['--help'])
  assert.equal(main.code, 0)
  for (const cmd of ['edge', 'gateway', 'source', 'import', 'demo', 'hash-password']) {
    assert.match(main.stdout, new RegExp(`\\b${cmd}\\b`))
    const r = await fedgres([cmd, '--help'])
    assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`)
    assert.match(r.stdout, new RegExp(`^fedgres ${cmd}: .*\\n\\nUsage: fedgres ${cmd}`), r.stdout)
  }
})

test('a bad config file names the bad key and exits non-zero', async () => {
  const dir = tempDir('fedgres-badcfg-')
  try {
    const gw = join(dir.path, 'gateway.yaml')
    writeFileSync(gw, 'listen:\n  port: 6543\n  hots: 127.0.0.1\nusers: []\n')
    const r = await fedgres(['gateway', '--config', gw])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /hots/)
    const edge = join(dir.path, 'edge.yaml')
    writeFileSync(edge, 'edge_id: "bad id!"\n')
    const e = await fedgres(['edge', '--config', edge])
    assert.notEqual(e.code, 0)
    assert.match(e.stderr, /edge_id/)
  } finally {
    dir.dispose()
  }
})
