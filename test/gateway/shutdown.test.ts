/**
 * Stopping a gateway: connected clients hear FATAL 57P01 (as from a PostgreSQL server shutting
 * down) and close() does not wait on them; `fedgres gateway` on a taken port exits at once with
 * the port named, instead of hanging on its catalog worker and discovery.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import pg from 'pg'
import { makeScramSecret } from '../../common/scram.js'
import { runCli } from '../helpers/cli-process.js'
import { startTestGateway } from '../helpers/gateway-fixture.js'
import { tempDir } from '../helpers/temp-dir.js'

test('close() ends connected sessions with 57P01 and returns promptly', async () => {
  const fx = await startTestGateway({ discovery: { kind: 'static', edges: [] } })
  const client = new pg.Client({ host: '127.0.0.1', port: fx.port, user: fx.user, password: fx.password, database: fx.database })
  await client.connect()
  const errors: (Error & { code?: string })[] = []
  const errored = new Promise<void>((r) => client.on('error', (e) => r(void errors.push(e))))
  const started = Date.now()
  await fx.stop()
  const took = Date.now() - started
  await errored
  const err = errors[0]!
  assert.equal(err.code, '57P01')
  assert.match(err.message, /terminating connection due to administrator command/)
  assert.ok(took < 3000, `close() took ${took} ms with a client connected`)
})

test('a gateway whose port is taken exits non-zero at once, naming the port', { timeout: 60_000 }, async () => {
  const dir = tempDir('fedgres-gwport-')
  const taken = createServer()
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()))
  const port = (taken.address() as { port: number }).port
  try {
    const cfg = join(dir.path, 'gateway.yaml')
    writeFileSync(
      cfg,
      [
        'listen:',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        'users:',
        `  - name: analyst`,
        `    scram: "${makeScramSecret('x')}"`,
        'discovery:',
        '  kind: static',
        '  edges: []',
        'catalog:',
        `  cache_dir: ${join(dir.path, 'catalog')}`,
        '',
      ].join('\n'),
    )
    const started = Date.now()
    const r = await runCli(['gateway', '--config', cfg])
    assert.equal(r.code, 1, r.stderr.slice(-2000))
    assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`))
    assert.ok(Date.now() - started < 45_000)
  } finally {
    taken.close()
    dir.dispose()
  }
})
