import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { rootLogger } from '../../common/log.js'
import { WireServer } from '../../common/pgwire/server/server.js'
import { makeScramSecret } from '../../common/scram.js'
import { waitFor } from '../../test/helpers/wait.js'
import { EdgePool, MAX_IDLE_PER_EDGE } from './edge-pool.js'
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
})
