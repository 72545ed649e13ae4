/**
 * deploy/Dockerfile, read rather than built (no Docker engine runs here): the runtime stage holds
 * every file the code reads from the package root at run time, the build context is not stripped
 * of them by .dockerignore, the code the image prunes (dist/test, dist/bench) is not imported by
 * the runtime, and the image runs as the non-root uid the manifests and units use.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { repoRoot } from '../../common/paths.js'
import { PROTO_PATH } from '../../edge-agent/ingest/kubearmor-proto.js'
import { deployDir, filesUnder } from './deploy-files.js'

interface Instruction {
  readonly op: string
  readonly args: string
}

/** Dockerfile instructions with continuation lines joined; comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/^\s*#.*\n/gm, '').replace(/\\\n/g, ' ')
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)
      assert.ok(m, `not an instruction: ${l}`)
      return { op: m[1]!.toUpperCase(), args: m[2]! }
    })
}

const dockerfile = () => instructions(readFileSync(deployDir('Dockerfile'), 'utf8'))

/** The instructions of the last stage (from its FROM on). */
function runtimeStage(): Instruction[] {
  const all = dockerfile()
  const from = all.map((i) => i.op).lastIndexOf('FROM')
  return all.slice(from)
}

/** `COPY [--from=x] src... dest` as { from, sources, dest }. */
function copies(stage: Instruction[]): { from?: string; sources: string[]; dest: string }[] {
  return stage
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/)
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
      const paths = words.filter((w) => !w.startsWith('--'))
      return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1]! }
    })
}

const RUNTIME_DIRS = ['common', 'schema', 'edge-agent', 'gateway', 'event-source', 'cli']

function runtimeSources(): string[] {
  return RUNTIME_DIRS.flatMap((d) => filesUnder(join(repoRoot(), d), ['.ts'])).filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.bench.ts'))
}

test('the runtime stage holds the files the code reads from the package root', () => {
  const stage = runtimeStage()
  const fromContext = copies(stage).filter((c) => !c.from).flatMap((c) => c.sources.map((s) => s.replace(/^\.\//, '')))
  const fromBuild = copies(stage).filter((c) => c.from === 'build').flatMap((c) => c.sources)
  assert.ok(fromBuild.includes('/src/dist'), 'dist/ from the build stage')
  for (const needed of ['package.json', 'package-lock.json', 'bin', relative(repoRoot(), PROTO_PATH)]) {
    assert.ok(fromContext.includes(needed), `the runtime stage copies ${needed}`)
  }
  // Any other file located through sourceFile() would have to be copied too.
  const located = runtimeSources().flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/sourceFile\(([^)]*)\)/g)].map((m) => m[1]!))
  const paths = located.filter((a) => !a.includes('...')).map((a) => [...a.matchAll(/'([^']+)'/g)].map((m) => m[1]).join('/'))
  assert.deepEqual(paths, [relative(repoRoot(), PROTO_PATH)], 'files read through sourceFile(); copy any new one in the Dockerfile')
  assert.match(readFileSync(join(repoRoot(), 'bin', 'fedgres.js'), 'utf8'), /import '\.\.\/dist\/cli\/main\.js'/)
})

test('the image installs production dependencies only, without install scripts', () => {
  const runs = runtimeStage().filter((i) => i.op === 'RUN').map((i) => i.args)
  assert.ok(runs.some((r) => /npm ci\b.*--omit=dev/.test(r) && r.includes('--ignore-scripts')), runs.join('\n'))
})

test('the runtime code imports nothing from test/ or bench/, which the image leaves out', () => {
  const offenders = runtimeSources().filter((f) => /from '(\.\.\/)+(test|bench)\//.test(readFileSync(f, 'utf8')))
  assert.deepEqual(offenders.map((f) => relative(repoRoot(), f)), [])
  assert.ok(dockerfile().some((i) => i.op === 'RUN' && i.args.includes('rm -rf dist/test dist/bench')))
})

test('.dockerignore keeps every file the Dockerfile copies in the build context', () => {
  const patterns = readFileSync(join(repoRoot(), '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  const ignored = (path: string) =>
    patterns.some((p) => {
      const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`)
      return re.test(path)
    })
  assert.ok(ignored('node_modules/x') && ignored('dist/cli/main.js') && ignored('server.log'), 'the matcher reads the patterns')
  const sources = copies(dockerfile()).filter((c) => !c.from).flatMap((c) => c.sources.map((s) => s.replace(/^\.\//, '')))
  for (const s of sources.filter((x) => x !== '.')) assert.ok(!ignored(s), `${s} is copied but .dockerignore drops it`)
  for (const dir of ['common', 'schema', 'edge-agent', 'gateway', 'cli', 'tsconfig.json']) assert.ok(!ignored(dir), `${dir} is needed by the build stage`)
})

test('the image runs as uid 10001 with the CLI as entrypoint', () => {
  const stage = runtimeStage()
  assert.deepEqual(stage.filter((i) => i.op === 'USER').map((i) => i.args), ['10001:10001'])
  const workdir = stage.filter((i) => i.op === 'WORKDIR').map((i) => i.args).pop()
  assert.equal(workdir, '/opt/fedgres')
  const entry = stage.find((i) => i.op === 'ENTRYPOINT')
  assert.deepEqual(JSON.parse(entry?.args ?? 'null'), ['node', `${workdir}/bin/fedgres.js`])
  assert.equal(dockerfile().filter((i) => i.op === 'FROM').length, 2, 'a build stage and a runtime stage')
})
