/**
 * lib/pq, Grafana's Go driver for PostgreSQL (the Debian golang-github-lib-pq-dev package, built
 * with Debian's Go), through pq_probe.go: Grafana's statements sent the way its data source
 * sends them. The probe prints what it saw; the caller judges.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerUnderTest } from './index.js'
import { clientAsset, runProcess } from './psql-client.js'

/** Where Debian's Go packages keep their source (GOPATH mode: no module download). */
const DEBIAN_GOPATH = '/usr/share/gocode'

export interface PqResult {
  readonly index: number
  /** Column name and lib/pq's DatabaseTypeName (upper-case pg_type.typname). */
  readonly columns?: readonly [string, string][]
  readonly rows: number
  /** The first row's values as text (timestamps in RFC 3339, UTC). */
  readonly first?: readonly (string | null)[]
  readonly code?: string
  readonly error?: string
  readonly ms: number
}

let built: Promise<string> | undefined

/** `go build` once per process into a temp dir removed at exit. */
export function buildPqProbe(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedgres-pq-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const res = await runProcess('go', ['build', '-o', join(dir, 'pq_probe'), clientAsset('pq_probe.go')], {
      env: { GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
      timeoutMs: 180_000,
    })
    if (res.code !== 0) throw new Error(`go build pq_probe.go failed (${res.code})\n${res.stderr}`)
    return join(dir, 'pq_probe')
  })()
  return built
}

/** lib/pq's connection string, as Grafana builds it (sslmode=require: encrypted, not verified). */
export function pqConnString(server: ServerUnderTest): string {
  const q = (v: string | number) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  return [
    `user=${q(server.user)}`, `password=${q(server.password)}`, `host=${q(server.host)}`, `port=${q(server.port)}`,
    `dbname=${q(server.database)}`, `sslmode=${server.tls ? 'require' : 'disable'}`,
  ].join(' ')
}

/** Runs `queries` on one lib/pq session; one result per query, in order. */
export async function runPq(server: ServerUnderTest, queries: readonly string[]): Promise<PqResult[]> {
  const probe = await buildPqProbe()
  const res = await runProcess(probe, [], { input: JSON.stringify({ conn: pqConnString(server), queries }), timeoutMs: 120_000 })
  if (res.code !== 0) throw new Error(`pq_probe exited ${res.code}\nstderr:\n${res.stderr}`)
  return res.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as PqResult)
}
