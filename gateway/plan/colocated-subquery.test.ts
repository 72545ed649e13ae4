import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule } from 'libpg-query'
import type { EdgeEndpoint } from '../discovery/edge-view.js'
import type { TableSynopsis } from '../../schema/synopsis.js'
import { planSql } from '../../test/helpers/plan-input.js'
import type { Plan } from './types.js'

before(() => loadModule())

const table = (hosts: string[]): TableSynopsis => ({ rows: 10, minTime: 0, maxTime: 1e15, values: { cluster_name: ['c'], host_name: hosts, namespace_name: ['default'], tags: [] } })
const edge = (id: string, hosts: string[]): EdgeEndpoint => ({
  edgeId: id, host: '127.0.0.1', port: 1, shard: id, cluster: 'c', tags: [], schemaVersion: 1, status: 'passing', tls: false, synopsisCurrentAt: 1000,
  synopsis: { edgeId: id, version: 1, publishedAt: '2026-12-07T00:00:00Z', schemaVersion: 1, tables: { alerts: table(hosts), logs: table(hosts) } },
})
const EDGES = [edge('e1', ['h1']), edge('e2', ['h2']), edge('e3', ['h3'])]

const planOf = (sql: string): Plan => planSql(sql, EDGES, { statementTime: '2026-12-07 12:00:00+00' })

test('a subquery that reads only its outer row\'s host runs on the edges: a host lives on one shard', () => {
  const cases: [string, Plan['tier']][] = [
    ['SELECT count(*) FROM alerts a WHERE time = (SELECT max(time) FROM alerts b WHERE b.host_name = a.host_name)', 'partial-aggregate'],
    ['SELECT host_name, time FROM alerts a WHERE EXISTS (SELECT 1 FROM logs l WHERE l.pid = a.pid AND a.host_name = l.host_name) ORDER BY time DESC LIMIT 5', 'merge-sorted'],
    ['SELECT a.pid, (SELECT count(*) FROM logs WHERE host_name = a.host_name AND logs.pid = a.pid) AS n FROM alerts a', 'union'],
    ['SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM logs l WHERE l.container_id = a.container_id)', 'partial-aggregate'],
    ['SELECT a.pid FROM alerts a JOIN logs l ON a.host_name = l.host_name WHERE a.pid IN (SELECT pid FROM logs x WHERE x.host_name = l.host_name)', 'union'],
    // Pruned by the outer WHERE alone: the subquery reads no other shard.
    ["SELECT * FROM alerts a WHERE a.host_name = 'h2' AND time = (SELECT max(time) FROM alerts b WHERE b.host_name = a.host_name)", 'router'],
  ]
  for (const [sql, tier] of cases) assert.equal(planOf(sql).tier, tier, sql)
  const routed = planOf("SELECT * FROM alerts a WHERE a.host_name = 'h2' AND time = (SELECT max(time) FROM alerts b WHERE b.host_name = a.host_name)")
  assert.ok(routed.tier === 'router' && routed.fetch.targets.map((t) => t.shard).join() === 'e2')
})

test('any other subquery needs rows of other shards: the gather tier', () => {
  for (const sql of [
    'SELECT count(*) FROM alerts a WHERE time = (SELECT max(time) FROM alerts)', // not correlated
    'SELECT count(*) FROM alerts a WHERE time = (SELECT max(time) FROM alerts b WHERE b.pid = a.pid)', // a pid is not a host
    'SELECT count(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM logs l WHERE l.host_name = a.host_name OR l.pid = a.pid)', // not at the top level
    'SELECT count(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM logs a WHERE a.host_name = a.host_name)', // the outer name reused inside
    'SELECT count(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM logs l WHERE l.host_name = a.host_name AND l.pid IN (SELECT pid FROM alerts))', // a subquery within
    'SELECT count(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM logs l, alerts x WHERE l.host_name = a.host_name)', // two tables inside
    'SELECT count(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM fedgres.edges e WHERE e.edge_id = a.host_name)',
    'SELECT host_name FROM alerts a GROUP BY 1 HAVING count(*) > (SELECT count(*) FROM logs l WHERE l.host_name = a.host_name)', // in HAVING
  ]) {
    assert.equal(planOf(sql).tier, 'gather', sql)
  }
})
