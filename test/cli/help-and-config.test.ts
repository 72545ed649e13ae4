/** The CLI's front door: every command's --help exits 0, and a bad config names the bad key. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { feederTypes, METHODS } from '../../edge-agent/ingest/kubearmor-proto.js'
import { fedgresBin, startCli } from '../helpers/cli-process.js'
import { tempDir } from '../helpers/temp-dir.js'

const run = promisify(execFile)

/** The first system log a KubeArmor-protocol server sends, over its own gRPC API. */
function firstLog(address: string): Promise<Record<string, unknown>> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure())
  const Log = feederTypes().Log
  const Req = feederTypes().RequestMessage
  return new Promise((resolve, reject) => {
    const call = client.makeServerStreamRequest(
      METHODS.WatchLogs,
      (m: object) => Buffer.from(Req.encode(Req.fromObject(m)).finish()),
      (b: Buffer) => Log.toObject(Log.decode(b)) as Record<string, unknown>,
      { Filter: 'system' },
    )
    call.once('data', (ev: Record<string, unknown>) => {
      call.cancel()
      client.close()
      resolve(ev)
    })
    call.once('error', (e: Error & { code?: number }) => {
      if (e.code !== grpc.status.CANCELLED) reject(e)
    })
  })
}

async function fedgres(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [fedgresBin(), ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string }
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }
  }
}

test('fedgres --help and every command\'s --help exit 0 and describe the command', async () => {
  const main = await fedgres(['--help'])
  assert.equal(main.code, 0)
  for (const cmd of ['edge', 'gateway', 'source', 'import', 'demo', 'hash-password', 'decommission']) {
    assert.match(main.stdout, new RegExp(`\\b${cmd}\\b`))
    const r = await fedgres([cmd, '--help'])
    assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`)
    assert.match(r.stdout, new RegExp(`^fedgres ${cmd}: .*\\n\\nUsage: fedgres ${cmd}`), r.stdout)
  }
})

test('fedgres decommission without --edge-id exits 2 naming it', async () => {
  const r = await fedgres(['decommission'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--edge-id is required/)
})

/** Runs `cmd` on a config file holding `contents`: it must fail and name `key`. */
async function refusesConfig(dir: string, cmd: string, file: string, contents: string, key: RegExp): Promise<void> {
  const path = join(dir, file)
  writeFileSync(path, contents)
  const r = await fedgres([cmd, '--config', path])
  assert.notEqual(r.code, 0)
  assert.match(r.stderr, key)
}

test('a bad config file names the bad key and exits non-zero', async () => {
  const dir = tempDir('fedgres-badcfg-')
  try {
    await refusesConfig(dir.path, 'gateway', 'gateway.yaml', 'listen:\n  port: 6543\n  hots: 127.0.0.1\nusers: []\n', /hots/)
    await refusesConfig(dir.path, 'edge', 'edge.yaml', 'edge_id: "bad id!"\n', /edge_id/)
  } finally {
    dir.dispose()
  }
})

test('source and demo take a config file and FEDGRES_* overrides too, and name a bad key', async () => {
  const dir = tempDir('fedgres-cfg-')
  try {
    await refusesConfig(dir.path, 'source', 'source.yaml', 'port: 0\nrate: 0\nhosts: [cfg-node]\nmode: fastest\n', /mode/)
    await refusesConfig(dir.path, 'demo', 'demo.json', JSON.stringify({ edges: 2, port: 0, edgs: 3 }), /edgs/)
    // An environment override that breaks a rule is named as well.
    const envBad = await fedgres(['demo', '--port', '0'], { FEDGRES_DEMO_EDGES: '99' })
    assert.notEqual(envBad.code, 0)
    assert.match(envBad.stderr, /edges/)
  } finally {
    dir.dispose()
  }
})

test('fedgres source reads its config file, with FEDGRES_SOURCE_* over it and flags over both', async () => {
  const dir = tempDir('fedgres-cfg-')
  const file = join(dir.path, 'source.yaml')
  writeFileSync(file, 'host: 127.0.0.1\nport: 0\nrate: 7\nhosts: [from-file]\ncluster: from-file\n')
  const p = startCli(['source', '--config', file, '--rate', '9'], { FEDGRES_SOURCE_CLUSTER: 'from-env' })
  try {
    const ready = await p.waitForLog('event source ready', 30_000)
    assert.equal(ready.rate, 9, 'the flag wins over the file')
    const ev = await firstLog(String(ready.address))
    assert.equal(ev.ClusterName, 'from-env', 'the environment wins over the file')
    assert.equal(ev.HostName, 'from-file')
  } finally {
    p.kill('SIGTERM')
    await p.exited
    dir.dispose()
  }
})
