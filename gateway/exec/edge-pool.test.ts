import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { WireServer } from '../../common/pgwire/server/server.js'
import { makeScramSecret } from '../../common/scram.js'
import { waitFor } from '../../test/helpers/wait.js'
import { EdgePool, MAX_IDLE_PER_EDGE } from './edge-pool.js'
import { EdgeUnreachable } from './edge-connection.js'
import type { EdgeSettings } from './edge-connection.js'

const log = rootLogger('test', 'error')
const LIMIT = MAX_IDLE_PER_EDGE + 2

describe('edge pool', () => {
  let server: WireServer
  let port: number
  before(async () => {
    server = new WireServer({
      host: '127.0.0.1',
      port: 0,
      database: 'edge',
      users: new Map([['gw', makeScramSecret('gw-secret')]]),
      maxConnections: LIMIT,
      log,
      createSession: async () => ({ start: async () => {}, handle: async () => {}, cancel: () => {}, close: async () => {} }),
    })
    port = await server.listen()
  })
  after(() => server.close())

  test('an edge keeps a bounded number of idle connections whatever the settings they were opened with', async () => {
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000)
    const address = { edgeId: 'edge-x', host: '127.0.0.1', port, tls: false }
    const zones: EdgeSettings[] = Array.from({ length: 3 * LIMIT }, (_, i) => [['TimeZone', `+00:${String(i).padStart(2, '0')}`]])
    // One session after another, each with its own time zone: every connect must succeed.
    for (const settings of zones) pool.release(await pool.acquire(address, undefined, settings))
    assert.equal(pool.idleCount(address), MAX_IDLE_PER_EDGE)
    await waitFor('idle connections closed', () => server.connections <= MAX_IDLE_PER_EDGE, 3000)
    // The most recently used settings still find their connection; the oldest were closed.
    const last = zones[zones.length - 1]!
    const again = pool.idle(address, last)
    assert.ok(again && !again.broken, 'the latest connection is kept')
    assert.equal(pool.idle(address, zones[0]!), undefined, 'the oldest idle connection was closed')
    assert.equal(pool.idleCount(address), MAX_IDLE_PER_EDGE - 1)
    pool.release(again)
    pool.close()
    await waitFor('all closed', () => server.connections === 0, 3000)
  })

  test('statements past the connections a gateway may hold to an edge wait for one to come free', async () => {
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000, 2)
    const address = { edgeId: 'edge-y', host: '127.0.0.1', port, tls: false }
    const utc: EdgeSettings = [['TimeZone', 'UTC']]
    const tokyo: EdgeSettings = [['TimeZone', 'Asia/Tokyo']]
    const [a, b] = [await pool.acquire(address, undefined, utc), await pool.acquire(address, undefined, utc)]
    let third: unknown
    const waiting = pool.acquire(address, undefined, utc).then((c) => (third = c))
    let fourth: unknown
    const other = pool.acquire(address, undefined, tokyo).then((c) => (fourth = c))
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(third, undefined, 'no third connection while two are busy')
    assert.equal(pool.openCount(address), 2)
    // A finished connection goes to the first waiter with its settings, as it is.
    pool.release(a)
    assert.equal(await waiting, a)
    // One opened with other settings makes room for the waiter that needs them.
    pool.release(b)
    await other
    assert.ok(fourth !== a && fourth !== b && !(fourth as typeof a).broken, 'the waiter opened its own connection')
    assert.equal(pool.openCount(address), 2)
    assert.ok(server.connections <= 2 + 1, 'never more than the cap (one closing)')
    // A connection that closes without coming back (a cancelled statement's) frees its slot too.
    const fifth = pool.acquire(address, undefined, utc)
    ;(fourth as typeof a).close()
    const c5 = await fifth
    assert.ok(!c5.broken)
    pool.release(c5)
    pool.release(a)
    pool.close()
    await waitFor('all closed', () => server.connections === 0, 3000)
  })

  test('a statement waiting for a connection gives up when none comes free in time, or when cancelled', async () => {
    const pool = new EdgePool({ user: 'gw', password: 'gw-secret', database: 'edge' }, 2000, 1)
    const address = { edgeId: 'edge-z', host: '127.0.0.1', port, tls: false }
    const held = await pool.acquire(address)
    const started = performance.now()
    await assert.rejects(pool.acquire(address, undefined, [], 300), (e: Error) => e instanceof EdgeUnreachable && /all 1 connections to edge edge-z stayed busy for 300 ms/.test(e.message))
    assert.ok(performance.now() - started >= 290)
    const ac = new AbortController()
    const cancelled = pool.acquire(address, ac.signal, [], 5000)
    ac.abort()
    await assert.rejects(cancelled, EdgeUnreachable)
    // Neither left a waiter behind: the connection goes back to the pool idle.
    pool.release(held)
    assert.equal(pool.idleCount(address), 1)
    // An idle connection opened with other settings gives its slot up at once.
    const tokyo = await pool.acquire(address, undefined, [['TimeZone', 'Asia/Tokyo']], 300)
    assert.equal(pool.idleCount(address), 0)
    assert.equal(pool.openCount(address), 1)
    pool.release(tokyo)
    pool.close()
    await waitFor('all closed', () => server.connections === 0, 3000)
  })
})
