/**
 * `fedgres demo`, as `npm start` runs it: the printed settings connect over TLS (the certificate
 * verifies for the printed host), events from every edge arrive, fedgres.edges lists the edges,
 * Ctrl-C stops everything with exit code 0, and a second start keeps the data and the password,
 * its printed psql command working as printed. A taken port fails at once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { runCli, startCli, type CliProcess } from '../helpers/cli-process.js'
import { freePort } from '../helpers/free-port.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait.js'

const run = promisify(execFile)

/** The settings of the printed `PGPASSWORD=… psql "host=… port=…"` line. */
function printedPsql(stdout: string): { password: string; params: Record<string, string> } {
  const m = /PGPASSWORD=(\S+) psql "([^"]+)"/.exec(stdout)
  assert.ok(m, `no psql line in:\n${stdout}`)
  return { password: m[1]!, params: Object.fromEntries(m[2]!.split(' ').map((kv) => kv.split('=') as [string, string])) }
}

/** SIGINT, as Ctrl-C sends it; resolves with the exit code, or a note if it is still running after 20 s. */
async function interrupt(demo: CliProcess): Promise<number | string> {
  demo.kill('SIGINT')
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<string>((r) => (timer = setTimeout(() => r('still running 20 s after SIGINT'), 20_000)))
  try {
    return await Promise.race([demo.exited, late])
  } finally {
    clearTimeout(timer)
  }
}

test('the demo serves events from 3 edges with the printed settings, stops cleanly on SIGINT, and keeps its data', { timeout: 150_000 }, async () => {
  const dir = tempDir('fedgres-demo-')
  const port = await freePort()
  const args = ['demo', '--port', String(port), '--data-dir', dir.path, '--edges', '3', '--rate', '300']
  let demo = startCli(args)
  let client: pg.Client | undefined
  try {
    await demo.waitForLog('demo ready', 90_000)
    const { password, params } = printedPsql(demo.stdoutText())
    assert.equal(params.port, String(port))
    assert.equal(params.sslmode, 'prefer')
    client = new pg.Client({
      host: params.host,
      port: Number(params.port),
      database: params.dbname,
      user: params.user,
      password,
      // The self-signed certificate is the only one trusted, and it must name the printed host.
      ssl: { ca: readFileSync(join(dir.path, 'tls', 'server.crt')) },
    })
    await client.connect()

    // The README's second query, at once: on a fresh data dir it showed 0 rows per edge for 30 s.
    const edges = await client.query<{ edge_id: string; cluster: string; n: string }>('SELECT edge_id, cluster, alerts_rows + logs_rows AS n FROM fedgres.edges ORDER BY edge_id')
    assert.deepEqual(
      edges.rows.map(({ edge_id, cluster }) => ({ edge_id, cluster })),
      [
        { edge_id: 'edge-1', cluster: 'demo-east' },
        { edge_id: 'edge-2', cluster: 'demo-west' },
        { edge_id: 'edge-3', cluster: 'demo-east' },
      ],
    )
    for (const e of edges.rows) assert.ok(Number(e.n) > 0, `fedgres.edges shows ${e.n} rows for ${e.edge_id} once the demo is ready`)
    await waitFor('events in logs', async () => Number((await client!.query('SELECT count(*) AS n FROM logs')).rows[0].n) > 0, 20_000, 250)
    await waitFor('rows from every edge', async () => (await client!.query('SELECT edge_id, count(*) FROM logs GROUP BY edge_id')).rows.length === 3, 20_000, 250)
    const before = Number((await client.query('SELECT count(*) AS n FROM logs')).rows[0].n)
    await client.end()
    client = undefined

    assert.equal(await interrupt(demo), 0, demo.stderrText().slice(-2000))
    assert.match(demo.stdoutText(), /^Stopped\.$/m)

    // The second start: same password, the stored events still there, psql as printed.
    demo = startCli(args)
    await demo.waitForLog('demo ready', 60_000)
    assert.equal(printedPsql(demo.stdoutText()).password, password)
    const line = /^psql +(PGPASSWORD=.*)$/m.exec(demo.stdoutText())![1]!
    const { stdout } = await run('sh', ['-c', `${line} -Atc 'SELECT count(*) FROM logs'`])
    assert.ok(Number(stdout.trim()) >= before, `the second start sees ${stdout.trim()} rows; the first had ${before}`)
    assert.equal(await interrupt(demo), 0, demo.stderrText().slice(-2000))
  } finally {
    await client?.end().catch(() => {})
    demo.kill('SIGKILL')
    await demo.exited
    dir.dispose()
  }
})

test('a taken port fails at once, saying to pass --port', async () => {
  const dir = tempDir('fedgres-demo-')
  const taken = createServer()
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()))
  const port = (taken.address() as { port: number }).port
  try {
    const res = await runCli(['demo', '--port', String(port), '--data-dir', join(dir.path, 'data')])
    assert.equal(res.code, 1)
    assert.match(res.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`))
  } finally {
    taken.close()
    dir.dispose()
  }
})
