import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PUBLISH_GRACE_MS, SYNOPSIS_MAX_AGE_MS, type TableSynopsis } from '../../schema/synopsis.js'
import type { EdgeEndpoint } from '../discovery/edge-view.js'
import { chooseTargets, restrictionsOf } from './prune.js'

const table: TableSynopsis = { rows: 10, minTime: 0, maxTime: 1e15, values: { cluster_name: ['c'], host_name: ['h1'], namespace_name: ['default'], tags: [] } }
const edge = (confirmedAt: number): EdgeEndpoint => ({
  edgeId: 'e1', host: '127.0.0.1', port: 1, shard: 'e1', cluster: 'c', tags: [], schemaVersion: 1, status: 'passing', tls: false, synopsisCurrentAt: confirmedAt,
  synopsis: { edgeId: 'e1', version: 1, publishedAt: '2026-12-07T00:00:00Z', schemaVersion: 1, tables: { alerts: table, logs: table } },
})
// WHERE host_name = 'h2': the synopsis says the edge holds none.
const where = { A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: '=' } }], lexpr: { ColumnRef: { fields: [{ String: { sval: 'host_name' } }] } }, rexpr: { A_Const: { sval: { sval: 'h2' } } } } }
const r = restrictionsOf(where, { qualifiers: ['logs'], unqualified: true }, { params: [], utcSession: true })

test("a synopsis prunes only while no row it does not cover can have been committed: for less than the edge's publish grace", () => {
  assert.ok(SYNOPSIS_MAX_AGE_MS < PUBLISH_GRACE_MS)
  const now = 100_000
  const pruned = (age: number) => chooseTargets([edge(now - age)], [{ table: 'logs', r }], now, SYNOPSIS_MAX_AGE_MS).pruned.length === 1
  // Confirmed by the static discovery's 1 s poll a moment ago: pruned.
  assert.equal(pruned(1000 + 100), true)
  // Older than the grace: the edge may have committed rows of a widened synopsis since; asked.
  assert.equal(pruned(PUBLISH_GRACE_MS), false)
  assert.equal(pruned(5000), false)
})
