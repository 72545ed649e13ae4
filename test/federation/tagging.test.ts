/**
 * Tagging rules across a federation: 4 edges apply the same rules to their own events. The rows
 * tagged are exactly those the rules describe, checked with native PostgreSQL's own operators
 * (inet containment for CIDR, ~ for regex); a query on a tag asks only the edges that ever saw
 * it; and its answer equals the oracle's.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import type { TagRule } from '../../edge-agent/rules/event-rules.js'
import { startOracleFederation, type OracleFederation } from '../helpers/oracle-federation.js'

const RULES: TagRule[] = [
  { name: 'suspect host', match: { host_name: 'node-1a' }, tags: ['suspect-host'] },
  { name: 'cluster network', match: { resource: { cidr: ['10.0.0.0/8'] } }, tags: ['internal-net'] },
  { name: 'root shells', match: { process_name: { regex: 'sh$' }, uid: 0 }, tags: ['root-shell'] },
  { name: 'payments', match: { namespace_name: { in: ['payments', 'checkout'] } }, tags: ['pci-scope'] },
]

/** What each rule means, in PostgreSQL's own terms, evaluated by the oracle. */
const MEANING: Record<string, string> = {
  'suspect-host': `host_name = 'node-1a'`,
  'internal-net': `EXISTS (SELECT 1 FROM regexp_matches(resource, '(\\d+\\.\\d+\\.\\d+\\.\\d+)', 'g') m WHERE m[1]::inet <<= '10.0.0.0/8')`,
  'root-shell': `process_name ~ 'sh$' AND uid = 0`,
  'pci-scope': `namespace_name IN ('payments', 'checkout')`,
}

const rowsOf = async (c: pg.Client, sql: string) => (await c.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })).rows.map((r) => JSON.stringify(r))

describe('tagging rules and tag pruning', { timeout: 600_000 }, () => {
  let fed: OracleFederation
  let gw: pg.Client
  let oracle: pg.Client
  before(async () => {
    fed = await startOracleFederation(4, 3000, RULES)
    gw = new pg.Client({ host: '127.0.0.1', port: fed.gateway.port, user: fed.gateway.user, password: fed.gateway.password, database: fed.gateway.database })
    oracle = new pg.Client({ host: fed.oracle.host, port: fed.oracle.port, user: fed.oracle.user, password: fed.oracle.password, database: fed.oracle.database })
    await Promise.all([gw.connect(), oracle.connect()])
  })
  after(async () => {
    await gw?.end().catch(() => {})
    await oracle?.end().catch(() => {})
    await fed?.stop()
  })

  test('each rule tags exactly the events it describes, in both tables', async () => {
    for (const table of ['alerts', 'logs']) {
      for (const [tag, meaning] of Object.entries(MEANING)) {
        const r = await oracle.query(
          `SELECT count(*) FILTER (WHERE tags @> ARRAY[$1]) AS tagged, count(*) FILTER (WHERE ${meaning}) AS meant,
                  count(*) FILTER (WHERE (tags @> ARRAY[$1]) IS DISTINCT FROM coalesce(${meaning}, false)) AS wrong FROM ${table}`,
          [tag],
        )
        const { tagged, meant, wrong } = r.rows[0] as Record<string, string>
        assert.equal(wrong, '0', `${table} ${tag}: ${wrong} rows tagged wrongly (tagged ${tagged}, meant ${meant})`)
      }
    }
    const some = await oracle.query(`SELECT t, count(*) AS n FROM (SELECT unnest(tags) AS t FROM logs) x GROUP BY 1 ORDER BY 1`)
    const counts = Object.fromEntries(some.rows.map((r) => [r.t, Number(r.n)]))
    for (const tag of ['suspect-host', 'internal-net', 'root-shell']) assert.ok(counts[tag]! > 0, `the dataset has ${tag} events: ${JSON.stringify(counts)}`)
  })

  test('a query on a tag asks only the edges that saw it, and answers as the oracle', async () => {
    const queries = [
      `SELECT host_name, count(*) FROM logs WHERE tags @> '{suspect-host}' GROUP BY 1 ORDER BY 1`,
      `SELECT time, host_name, process_name, resource FROM logs WHERE tags @> ARRAY['suspect-host'] ORDER BY time LIMIT 50`,
      `SELECT count(*) FROM alerts WHERE tags && '{suspect-host,no-such-tag}'`,
    ]
    for (const sql of queries) {
      const before = fed.edges.map((e) => e.running.served())
      const got = await rowsOf(gw, sql)
      const asked = fed.edges.map((e, i) => e.running.served() - before[i]!)
      assert.deepEqual(asked, [1, 0, 0, 0], `${sql}: only edge-1 has node-1a's events`)
      assert.deepEqual(got, await rowsOf(oracle, sql), sql)
    }
    const plan = (await gw.query(`EXPLAIN SELECT count(*) FROM logs WHERE tags @> '{suspect-host}'`)).rows.map((r) => r['QUERY PLAN'] as string).join('\n')
    assert.match(plan, /no row is tagged 'suspect-host'/, plan)
    // A tag no edge saw: no edge is asked, and the answer is still PostgreSQL's.
    const none = `SELECT count(*), max(time) FROM logs WHERE tags @> '{never-seen}'`
    const before = fed.edges.map((e) => e.running.served())
    assert.deepEqual(await rowsOf(gw, none), await rowsOf(oracle, none))
    assert.deepEqual(fed.edges.map((e, i) => e.running.served() - before[i]!), [0, 0, 0, 0])
    // A tag on every edge's events asks all of them, and agrees too.
    const all = `SELECT host_name, count(*) FROM logs WHERE tags @> '{internal-net}' GROUP BY 1 ORDER BY 1`
    assert.deepEqual(await rowsOf(gw, all), await rowsOf(oracle, all))
  })
})
