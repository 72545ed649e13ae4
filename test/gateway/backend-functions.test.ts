/**
 * pg_backend_pid(), pg_stat_activity, pg_cancel_backend() and pg_terminate_backend() answer for
 * the gateway's client sessions as PostgreSQL 18.4 answers for its backends (what pgAdmin's cancel
 * button and DBeaver's session manager do: the pid from BackendKeyData, signalled from another
 * connection). Each step runs on the gateway (one PGlite edge behind it) and on native PostgreSQL
 * with the same two roles, and the answers are compared.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { makeScramSecret } from '../../common/scram.js'
import { startMiniFederation, type MiniFederation } from '../helpers/mini-federation.js'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'
import { sleep } from '../helpers/wait.js'

const ROLES = { analyst: 'analyst-secret', auditor: 'auditor-secret' } as const
type Role = keyof typeof ROLES

interface Server {
  readonly name: string
  connect(role: Role): Promise<pg.Client>
  /** A statement that runs until cancelled, without holding the gateway's catalog engine (with `stall` on, for the gateway). */
  readonly long: string
  stall(on: boolean): void
}

const pidOf = (c: pg.Client) => (c as unknown as { processID: number }).processID

async function outcome(c: pg.Client, sql: string, values: unknown[] = []): Promise<string> {
  const warnings: string[] = []
  const onNotice = (n: { severity?: string; message?: string }) => warnings.push(`${n.severity}: ${n.message}`)
  c.on('notice', onNotice)
  try {
    const r = await c.query({ text: sql, values, rowMode: 'array' })
    return JSON.stringify({ columns: r.fields.map((f) => [f.name, f.dataTypeID]), rows: r.rows, warnings })
  } catch (e) {
    const err = e as { code?: string; message?: string; detail?: string }
    return JSON.stringify({ error: err.code, message: err.message, detail: err.detail, warnings })
  } finally {
    c.off('notice', onNotice)
  }
}

describe('process functions and pg_stat_activity, against PostgreSQL 18.4', () => {
  let fed: MiniFederation
  let native: NativePg
  const servers: Server[] = []
  const opened: pg.Client[] = []

  before(async () => {
    const users = Object.entries(ROLES).map(([name, password]) => ({ name, scram: makeScramSecret(password) }))
    ;[fed, native] = await Promise.all([startMiniFederation(['host-a'], [{ id: 'ea', source: 0 }], 200, { users }), startNativePostgres({})])
    const admin = new pg.Client({ host: native.host, port: native.port, user: native.user, password: native.password, database: native.database })
    await admin.connect()
    for (const [name, password] of Object.entries(ROLES)) await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`)
    await admin.end()
    const open = async (cfg: pg.ClientConfig) => {
      const c = new pg.Client(cfg)
      c.on('error', () => {}) // a terminated session; its query's rejection is what is compared
      await c.connect()
      opened.push(c)
      return c
    }
    servers.push(
      { name: 'gateway', long: 'SELECT count(*) FROM logs', stall: (on) => (on ? fed.edges[0]!.proxy.hang() : fed.edges[0]!.proxy.restore()), connect: (role) => open({ host: '127.0.0.1', port: fed.gateway.port, user: role, password: ROLES[role], database: 'fedgres' }) },
      { name: 'postgres', long: 'SELECT pg_sleep(60)', stall: () => {}, connect: (role) => open({ host: native.host, port: native.port, user: role, password: ROLES[role], database: native.database }) },
    )
  })

  after(async () => {
    for (const c of opened) await c.end().catch(() => {})
    await fed?.stop()
    await native?.stop()
  })

  /** The same scenario on both servers; its transcripts must be equal. */
  async function same(scenario: (s: Server) => Promise<string[]>): Promise<void> {
    const [gateway, postgres] = [await scenario(servers[0]!), await scenario(servers[1]!)]
    assert.deepEqual(gateway, postgres)
  }

  test('pg_backend_pid() is the process ID of BackendKeyData; pg_stat_activity has PostgreSQL\'s columns', async () => {
    await same(async (s) => {
      const c = await s.connect('analyst')
      const { rows } = await c.query('SELECT pg_backend_pid() AS p, (SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS n')
      assert.equal(rows[0].p, pidOf(c), s.name)
      return [String(rows[0].n), await outcome(c, 'SELECT * FROM pg_stat_activity LIMIT 0'), await outcome(c, 'SELECT pg_backend_pid() = $1::int AS mine', [pidOf(c)])]
    })
  })

  test('a session of one\'s own role shows all; another role\'s shows its role and application, the rest hidden', async () => {
    await same(async (s) => {
      const b = await s.connect('analyst')
      await b.query("SET application_name = 'dashboard'")
      const row = 'SELECT usename, application_name, state, query, backend_type, client_addr IS NOT NULL AS addr, backend_start <= now() AS started, wait_event FROM pg_stat_activity WHERE pid = $1'
      const own = await s.connect('analyst')
      const other = await s.connect('auditor')
      const long = await s.connect('analyst')
      await long.query(`SELECT '${'é'.repeat(700)}' AS long_text`)
      const clip = await outcome(own, 'SELECT length(query), octet_length(query) FROM pg_stat_activity WHERE pid = $1', [pidOf(long)])
      return [await outcome(own, row, [pidOf(b)]), await outcome(other, row, [pidOf(b)]), clip]
    })
  })

  test('pg_cancel_backend from another connection stops the running statement; an unknown pid warns; another role\'s is refused', async () => {
    await same(async (s) => {
      const b = await s.connect('analyst')
      s.stall(true)
      const running = b.query(s.long).then(() => 'finished', (e: pg.DatabaseError) => `${e.code} ${e.message}`)
      const a = await s.connect('analyst')
      for (let i = 0; i < 100; i++) {
        const r = await a.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [pidOf(b)])
        if (r.rows[0]?.state === 'active') break
        await sleep(20)
      }
      const auditor = await s.connect('auditor')
      const refused = await outcome(auditor, 'SELECT pg_cancel_backend($1)', [pidOf(b)])
      const cancelled = await outcome(a, `SELECT pg_cancel_backend(${pidOf(b)})`)
      const ended = await running
      s.stall(false)
      return [refused, cancelled, ended, await outcome(a, 'SELECT pg_cancel_backend(999999), pg_cancel_backend(NULL)'), await outcome(b, 'SELECT 1 AS still_here')]
    })
  })

  test('pg_terminate_backend ends another session\'s connection; its own, this one\'s; a negative timeout is refused', async () => {
    await same(async (s) => {
      const b = await s.connect('analyst')
      const a = await s.connect('analyst')
      const out = [await outcome(a, 'SELECT pg_terminate_backend(pid => $1, timeout => -1)', [pidOf(b)]), await outcome(a, 'SELECT pg_terminate_backend($1) AS t', [pidOf(b)])]
      await sleep(300)
      out.push(await outcome(b, 'SELECT 1'))
      out.push(await outcome(a, 'SELECT pg_cancel_backend(pg_backend_pid())'), await outcome(a, 'SELECT 2 AS after_cancel'))
      out.push(await outcome(a, 'SELECT pg_terminate_backend(pg_backend_pid())'))
      // How node-postgres words a connection the server ended depends on when the FATAL arrived.
      return out.map((o) => o.replace(/"error":"?[^,]*,"message":"(Connection terminated unexpectedly|terminating connection due to administrator command|Client has encountered a connection error and is not queryable)"/, '"terminated":true'))
    })
  })
})
