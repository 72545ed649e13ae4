/** `fedgres import` of karmor logs --json files: whole imports, clear errors, progress, gzip. */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { EventGenerator } from '../../event-source/generator.js'
import { openEdgeDb } from '../helpers/edge-fixtures.js'
import { runCli } from '../helpers/cli-process.js'
import { samplesDir } from '../helpers/samples.js'
import { tempDir } from '../helpers/temp-dir.js'

const dir = tempDir()
after(() => dir.dispose())

async function counts(dataDir: string): Promise<{ alerts: number; logs: number }> {
  const db = await openEdgeDb(dataDir)
  try {
    const r = await db.query<{ a: number; l: number }>('SELECT (SELECT count(*) FROM alerts)::int AS a, (SELECT count(*) FROM logs)::int AS l')
    return { alerts: r.rows[0]!.a, logs: r.rows[0]!.l }
  } finally {
    await db.close()
  }
}

const sampleLines = () => readFileSync(join(samplesDir(), 'kubearmor-samples.jsonl'), 'utf8').trim().split('\n')

test('a malformed line stops the import with its line number, and nothing is imported', async () => {
  const lines = sampleLines()
  lines.splice(2, 0, '{"HostName": "n1", "Type": "ContainerLog", ') // line 3: truncated JSON
  const file = join(dir.path, 'bad.jsonl')
  writeFileSync(file, lines.join('\n') + '\n')
  const dataDir = join(dir.path, 'edge-bad')
  const res = await runCli(['import', '--data-dir', dataDir, '--edge-id', 'imp', file])
  assert.equal(res.code, 1)
  assert.match(res.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:3: malformed JSON`))
  assert.match(res.stderr, /nothing was imported/)
  assert.deepEqual(await counts(dataDir), { alerts: 0, logs: 0 })
})

test('a field of the wrong type names the line and the field', async () => {
  const file = join(dir.path, 'badfield.jsonl')
  writeFileSync(file, [...sampleLines().slice(0, 4), '{"HostName":"n1","Type":"ContainerLog","HostPID":"abc"}', '[1,2]'].join('\n'))
  const res = await runCli(['import', '--data-dir', join(dir.path, 'edge-badfield'), '--edge-id', 'imp', file])
  assert.equal(res.code, 1)
  assert.match(res.stderr, /badfield\.jsonl:5: field HostPID: expected a 32-bit integer, got "abc"/)
})

test('--skip-bad reports each malformed line and imports the others', async () => {
  const lines = sampleLines()
  const file = join(dir.path, 'skip.jsonl')
  writeFileSync(file, [lines[0], 'not json', lines[1], '{"unrelated": true}', ...lines.slice(2)].join('\n') + '\n')
  const dataDir = join(dir.path, 'edge-skip')
  const res = await runCli(['import', '--data-dir', dataDir, '--edge-id', 'imp', '--skip-bad', file])
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stderr, /skip\.jsonl:2: malformed JSON/)
  assert.match(res.stderr, /skip\.jsonl:4: not a KubeArmor event/)
  assert.match(res.stdout, /2 malformed lines skipped/)
  const c = await counts(dataDir)
  assert.equal(c.alerts + c.logs, lines.length)
})

test('a large gzipped file imports whole, with progress, and the synopsis covers it', async () => {
  const gen = new EventGenerator({ hosts: ['node-i1', 'node-i2'], seed: 3 })
  const out: string[] = []
  const t0 = Date.parse('2026-11-01T00:00:00Z') * 1000
  for (let i = 0; i < 60_000; i++) out.push(JSON.stringify(gen.next(t0 + i * 20_000_000).event)) // 20 s apart: about 14 days
  const file = join(dir.path, 'big.jsonl.gz')
  writeFileSync(file, gzipSync(out.join('\n') + '\n'))
  const dataDir = join(dir.path, 'edge-big')
  const res = await runCli(['import', '--data-dir', dataDir, '--edge-id', 'imp', file])
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stderr, /big\.jsonl\.gz: 60000 lines read \(100\.0%\)/)
  const c = await counts(dataDir)
  assert.equal(c.alerts + c.logs, 60_000)
  const db = await openEdgeDb(dataDir)
  try {
    const s = await db.query<{ synopsis: { tables: { logs: { values: { host_name: string[] } } } } }>('SELECT synopsis FROM fedgres_internal.spool_state')
    assert.deepEqual(s.rows[0]!.synopsis.tables.logs.values.host_name, ['node-i1', 'node-i2'])
    const days = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.logs'::regclass`)
    assert.ok(days.rows[0]!.n >= 13, 'one partition per day of data')
  } finally {
    await db.close()
  }
})
