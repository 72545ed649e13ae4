/**
 * A gateway holds at most `edge_connections` connections open to each edge, however many of its
 * sessions run statements at once: the others wait their turn and all answer, rather than each
 * opening its own connection until the edge's limit (200) refuses every gateway.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { startMiniFederation, type MiniFederation } from '../helpers/mini-federation.js'

const CAP = 3
const SESSIONS = 40

describe('connections a gateway holds to each edge', () => {
  let fed: MiniFederation
  const clients: pg.Client[] = []
  before(async () => {
    fed = await startMiniFederation(['host-a', 'host-b'], [{ id: 'ea', source: 0 }, { id: 'eb', source: 1 }], 600, { edge_connections: CAP })
    for (let i = 0; i < SESSIONS; i++) clients.push(await fed.client())
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    await fed?.stop()
  })

  test(`${SESSIONS} sessions at once through a gateway allowed ${CAP} connections per edge all answer, and no edge sees more`, async () => {
    const direct = async (sql: string) => {
      let n = 0
      for (const e of fed.edges) n += Number((await e.direct(sql))[0]!.n)
      return n
    }
    const logs = await direct('SELECT count(*) AS n FROM logs')
    const alerts = await direct("SELECT count(*) AS n FROM alerts WHERE host_name = 'host-a'")
    for (const e of fed.edges) e.proxy.peakOpen = 0
    // Half fan out to both edges, half ask one: each statement runs on a connection of its own.
    const answers = await Promise.all(
      clients.map(async (c, i) => {
        const sql = i % 2 === 0 ? 'SELECT count(*) AS n FROM logs' : "SELECT count(*) AS n FROM alerts WHERE host_name = 'host-a'"
        return Number((await c.query(sql)).rows[0].n)
      }),
    )
    answers.forEach((n, i) => assert.equal(n, i % 2 === 0 ? logs : alerts, `session ${i}`))
    // One more connection per edge is the discovery's, which polls the edge's synopsis.
    for (const e of fed.edges) assert.ok(e.proxy.peakOpen <= CAP + 1, `edge ${e.id}: ${e.proxy.peakOpen} connections open at once`)
    assert.ok(fed.edges.some((e) => e.proxy.peakOpen === CAP + 1), 'the statements used every connection allowed')
    // /metrics tells the operator that statements queued for the edges' connections.
    const metrics = await fed.gateway.gateway.metrics.registry.getMetricsAsJSON()
    const value = (name: string, state?: string) => metrics.find((m) => m.name === name)?.values.find((v) => state === undefined || v.labels.state === state)?.value
    assert.ok(Number(value('fedgres_gateway_edge_connection_waits_total')) > 0, 'waits counted')
    assert.ok(Number(value('fedgres_gateway_edge_connections', 'open')) <= CAP * fed.edges.length)
    assert.equal(value('fedgres_gateway_edge_connections', 'waiting'), 0)
  })
})
