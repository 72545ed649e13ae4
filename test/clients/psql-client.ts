/**
 * psql (the Debian psql 15 client) against a server: the describe meta-commands a user types
 * first, and `\l`, which psql 15 cannot run against PostgreSQL 17 or later. Also home of the
 * child-process runner the other process-driven clients (pgjdbc, isql, Python) share.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { alertColumns, logColumns, type ColumnSpec } from '../../schema/columns.js'
import type { ServerUnderTest } from './index.js'

export interface ProcessResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs a program to completion (killing it after `timeoutMs`), capturing both streams. */
export function runProcess(
  cmd: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<ProcessResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`cannot run ${cmd}: ${err.message}`))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
    child.stdin.end(opts.input ?? '')
  })
}

/** The repository root (the directory holding package.json), from source or from dist/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('package.json not found above the test harness')
    dir = up
  }
  return dir
}

/** Non-TS assets (the Java and Python probes) are not compiled to dist/: read them from source. */
export const clientAsset = (name: string) => join(repoRoot(), 'test', 'clients', name)

const libpqEnv = (s: ServerUnderTest) => ({
  PGHOST: s.host,
  PGPORT: String(s.port),
  PGUSER: s.user,
  PGPASSWORD: s.password,
  PGDATABASE: s.database,
  PGSSLMODE: s.tls ? 'require' : 'disable',
  PGCONNECT_TIMEOUT: '10',
  // psql output must not depend on the machine it runs on.
  PGCLIENTENCODING: 'UTF8',
  LC_ALL: 'C.UTF-8',
  PAGER: '',
  PSQL_PAGER: '',
})

/** `psql -X -v ON_ERROR_STOP=1` with each of `commands` as a `-c`. */
export function runPsql(server: ServerUnderTest, commands: readonly string[], extra: readonly string[] = []) {
  return runProcess('psql', ['-X', '-v', 'ON_ERROR_STOP=1', ...extra, ...commands.flatMap((c) => ['-c', c])], { env: libpqEnv(server), timeoutMs: 30_000 })
}

export interface PsqlReport {
  /** The output of each meta-command, keyed by the command. */
  readonly outputs: Readonly<Record<string, string>>
  readonly conninfo: string
}

const formatType = (c: ColumnSpec) => (c.type === 'timestamptz' ? 'timestamp with time zone' : c.type)

/** One `\d` row: `name | type | collation | nullable | ...` with psql's aligned padding. */
function assertDescribesColumns(out: string, cols: readonly ColumnSpec[], what: string) {
  for (const c of cols) {
    const row = new RegExp(`^ ${c.name} +\\| ${formatType(c).replace(/[[\]]/g, '\\$&')} +\\| +\\| ${c.notNull ? 'not null' : ' +'} *\\|`, 'm')
    assert.match(out, row, `psql ${what}: no row for column ${c.name} ${formatType(c)}${c.notNull ? ' not null' : ''}\n${out}`)
  }
}

/**
 * `\conninfo`, `\dn`, `\dt`, `\d alerts`, `\d+ logs`, `\df`, then `\x` and queries in expanded
 * mode, each run as its own psql invocation so a failure names its command.
 */
export async function checkPsql(server: ServerUnderTest): Promise<PsqlReport> {
  const commands = ['\\conninfo', '\\dn', '\\dt', '\\d alerts', '\\d+ logs', '\\df']
  const outputs: Record<string, string> = {}
  // Sequential: psql startup is cheap, and the runs must not crowd a 2-core machine.
  for (const cmd of commands) {
    const res = await runPsql(server, [cmd])
    assert.equal(res.code, 0, `psql ${cmd} exited ${res.code}\n${res.stderr}`)
    assert.doesNotMatch(res.stderr + res.stdout, /ERROR|FATAL/, `psql ${cmd} reported an error\n${res.stderr}`)
    outputs[cmd] = res.stdout
  }
  const conninfo = outputs['\\conninfo']!
  assert.match(conninfo, new RegExp(`connected to database "${server.database}" as user "${server.user}"`), conninfo)
  if (server.tls) assert.match(conninfo, /^SSL connection \(protocol: TLSv1\.[23]/m, `psql over TLS: ${conninfo}`)
  else assert.doesNotMatch(conninfo, /SSL connection/, conninfo)

  const dn = outputs['\\dn']!
  assert.match(dn, /List of schemas/, dn)
  for (const schema of ['fedgres', 'public']) assert.match(dn, new RegExp(`^ ${schema} +\\|`, 'm'), `\\dn lacks ${schema}\n${dn}`)

  const dt = outputs['\\dt']!
  assert.match(dt, /List of relations/, dt)
  for (const t of ['alerts', 'logs']) assert.match(dt, new RegExp(`^ public +\\| ${t} +\\| table +\\|`, 'm'), `\\dt lacks table ${t}\n${dt}`)

  const dAlerts = outputs['\\d alerts']!
  assert.match(dAlerts, /Table "public\.alerts"/, dAlerts)
  assert.match(dAlerts, /^ +Column +\| +Type +\| Collation \| Nullable \| Default/m, dAlerts)
  assertDescribesColumns(dAlerts, alertColumns, '\\d alerts')
  assert.match(dAlerts, /^ event_data +\| jsonb /m, dAlerts)

  const dLogs = outputs['\\d+ logs']!
  assert.match(dLogs, /Table "public\.logs"/, dLogs)
  assert.match(dLogs, /\| Storage +\| Compression \| Stats target \| +Description/, dLogs)
  assertDescribesColumns(dLogs, logColumns, '\\d+ logs')
  // \d+ shows the column comments: they are how BI users learn what a column means.
  for (const c of logColumns) assert.ok(dLogs.includes(`| ${c.comment}`), `\\d+ logs lacks the comment of ${c.name}\n${dLogs}`)

  const df = outputs['\\df']!
  assert.match(df, /List of functions\n Schema \| Name \| Result data type \| Argument data types \| Type/, df)

  // Expanded display: \x is client-side, the queries after it are the server's.
  const x = await runPsql(server, ['\\x', 'select count(*) as n, 1 as one from alerts', "select 'O''Reilly'::text as who, 42::int4 as answer"])
  assert.equal(x.code, 0, `psql \\x exited ${x.code}\n${x.stderr}`)
  assert.equal(
    x.stdout,
    'Expanded display is on.\n-[ RECORD 1 ]\nn   | 0\none | 1\n\n-[ RECORD 1 ]----\nwho    | O\'Reilly\nanswer | 42\n\n',
    `psql \\x output\n${x.stdout}\n${x.stderr}`,
  )
  outputs['\\x'] = x.stdout
  return { outputs, conninfo }
}

/**
 * psql 15's `\l` selects `d.daticulocale`, which PostgreSQL 17 renamed to `datlocale`: a server
 * with a PostgreSQL 18 catalog must fail it exactly as PostgreSQL does, never "succeed".
 * Returns psql's stderr.
 */
export async function checkPsqlListDatabasesFails(server: ServerUnderTest): Promise<string> {
  const res = await runPsql(server, ['\\l'])
  assert.equal(res.code, 1, `psql \\l must fail (exit 1) on a PostgreSQL 18 catalog, exited ${res.code}\n${res.stdout}${res.stderr}`)
  assert.equal(res.stdout, '', `psql \\l printed a result\n${res.stdout}`)
  const lines = res.stderr.split('\n')
  assert.equal(lines[0], 'ERROR:  column d.daticulocale does not exist', res.stderr)
  assert.match(lines[1] ?? '', /^LINE \d+: .*d\.daticulocale as "ICU Locale",/, res.stderr)
  assert.ok(lines.includes('HINT:  Perhaps you meant to reference the column "d.datlocale".'), res.stderr)
  return res.stderr
}
