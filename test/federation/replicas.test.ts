/**
 * Edge replicas: two agents with the same shard pull the same KubeArmor source and store the
 * whole stream. Three clients run a workload through the gateway while either replica is killed
 * (its connections reset mid-reply, new ones refused) and later restored; every answer must be
 * the one the network gave with both alive — no error, no missing or doubled rows.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type pg from 'pg'
import { startMiniFederation, type MiniFederation } from '../helpers/mini-federation.js'
import { sleep, waitFor } from '../helpers/wait.js'

const WORKLOAD = [
  'SELECT count(*) FROM logs',
  `SELECT host_name, operation, count(*) FROM logs GROUP BY 1, 2 ORDER BY 1, 2`,
  `SELECT time, host_name, pid, resource FROM logs WHERE host_name = 'host-b' ORDER BY time, pid, resource`,
  `SELECT namespace_name, count(*), min(time), max(time) FROM alerts GROUP BY 1 ORDER BY 1 NULLS FIRST`,
  `SELECT time, host_name, process_name FROM logs ORDER BY time DESC, host_name, process_name LIMIT 25`,
  `SELECT * FROM alerts WHERE host_name = 'host-b' ORDER BY time, pid, resource`,
]

const answer = async (c: pg.Client, sql: string) => JSON.stringify((await c.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })).rows)

describe('a replica pair loses no answer when either replica dies', { timeout: 300_000 }, () => {
  let fed: MiniFederation
  let clients: pg.Client[]
  const expected = new Map<string, string>()
  const edge = (id: string) => fed.edges.find((e) => e.id === id)!
  const healthy = () => waitFor('all edges passing', () => fed.gateway.gateway.discovery!.current().edges.every((e) => e.status === 'passing'), 15_000)

  before(async () => {
    fed = await startMiniFederation(['host-a', 'host-b'], [
      { id: 'ea', source: 0 },
      { id: 'rb1', source: 1, shard: 'sb' },
      { id: 'rb2', source: 1, shard: 'sb' },
    ], 3000)
    clients = await Promise.all([fed.client(), fed.client(), fed.client()])
    for (const sql of WORKLOAD) expected.set(sql, await answer(clients[0]!, sql))
  })
  after(async () => {
    for (const c of clients ?? []) await c.end().catch(() => {})
    await fed?.stop()
  })

  test('the replicas hold the same rows', async () => {
    for (const t of ['alerts', 'logs']) {
      const sql = `SELECT count(*) AS n, md5(string_agg(time::text || pid::text || coalesce(resource, ''), ',' ORDER BY time, pid, resource)) AS h FROM ${t}`
      assert.deepEqual(await edge('rb1').direct(sql), await edge('rb2').direct(sql), t)
    }
  })

  for (const victim of ['rb1', 'rb2']) {
    test(`killing ${victim} mid-workload: every answer arrives and is exact`, async () => {
      let stop = false
      let answered = 0
      const failures: string[] = []
      const workers = clients.map(async (c, w) => {
        for (let i = w; !stop; i++) {
          const sql = WORKLOAD[i % WORKLOAD.length]!
          try {
            const got = await answer(c, sql)
            if (got !== expected.get(sql)) failures.push(`${sql}: a different answer (${got.length} vs ${expected.get(sql)!.length} chars)`)
          } catch (e) {
            failures.push(`${sql}: ${(e as { code?: string }).code} ${(e as Error).message}`)
          }
          answered++
        }
      })
      await sleep(400)
      // Cut replies in flight: the next connection through the proxy dies after a few KB.
      edge(victim).proxy.killAfterBytes(4000)
      await sleep(300)
      edge(victim).proxy.kill()
      const atKill = answered
      await sleep(2500)
      edge(victim).proxy.restore()
      await healthy()
      await sleep(300)
      stop = true
      await Promise.all(workers)
      assert.deepEqual(failures, [])
      assert.ok(answered - atKill > 10, `queries answered while ${victim} was down: ${answered - atKill}`)
    })
  }
})
