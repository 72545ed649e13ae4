import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { loadModule } from 'libpg-query'
import type { EdgeEndpoint } from '../discovery/edge-view.js'
import type { Synopsis, TableSynopsis } from '../../schema/synopsis.js'
import { plan } from './planner.js'
import { laterTargets } from './time-bound.js'
import { planInput, planSql, selectOf } from '../../test/helpers/plan-input.js'
import type { Plan, PlanInput, PruneValue } from './types.js'
import { parseTimestampMicros } from './timestamp-literal.js'

before(() => loadModule())

const T0 = Date.UTC(2026, 10, 1) * 1000
const DAY = 86_400_000_000

function table(hosts: string[], cluster: string, days: [number, number], tags: string[] = []): TableSynopsis {
  return { rows: 100, minTime: T0 + days[0] * DAY, maxTime: T0 + days[1] * DAY, values: { cluster_name: [cluster], host_name: hosts, namespace_name: ['default', null], tags } }
}

function edge(id: string, hosts: string[], cluster: string, opts: Partial<EdgeEndpoint> & { days?: [number, number]; tags?: string[] } = {}): EdgeEndpoint {
  const syn: Synopsis = { edgeId: id, version: 1, publishedAt: '2026-11-01T00:00:00Z', schemaVersion: 1, tables: { alerts: table(hosts, cluster, opts.days ?? [0, 3], opts.tags), logs: table(hosts, cluster, opts.days ?? [0, 3], opts.tags) } }
  return { edgeId: id, host: '127.0.0.1', port: 1, shard: id, cluster, tags: [], schemaVersion: 1, status: 'passing', synopsis: syn, synopsisCurrentAt: 1000, tls: false, ...opts }
}

const EDGES = [edge('e1', ['h1', 'h2'], 'east', { tags: ['pci'] }), edge('e2', ['h3'], 'east', { days: [2, 5] }), edge('e3', ['h4'], 'west'), edge('e4', ['h5'], 'west', { days: [6, 7] })]

const planOf = (sql: string, params: PruneValue[] = [], edges = EDGES, extra: Partial<PlanInput> = {}): Plan => planSql(sql, edges, { params, paramCount: params.length, ...extra })

const asked = (p: Plan) => {
  const f = p.tier === 'gather' ? p.feeds[0]!.fetch! : p.fetch
  return f.targets.map((t) => t.shard)
}
const prunedReasons = (p: Plan) => (p.tier === 'gather' ? p.feeds[0]!.fetch!.pruned : p.fetch.pruned).map((x) => `${x.edgeId}: ${x.reason}`)

describe('tier choice', () => {
  const cases: [string, Plan['tier']][] = [
    ['SELECT * FROM alerts', 'union'],
    ['SELECT host_name FROM logs LIMIT 5', 'union'],
    ['SELECT host_name, time FROM logs ORDER BY time DESC LIMIT 5', 'merge-sorted'],
    ['SELECT host_name, time FROM logs ORDER BY 2, host_name NULLS FIRST', 'merge-sorted'],
    ['SELECT host_name, count(*), avg(pid) FROM logs GROUP BY 1 HAVING count(*) > 2 ORDER BY 2 DESC LIMIT 3', 'partial-aggregate'],
    ['SELECT count(*) FROM alerts', 'partial-aggregate'],
    ['SELECT count(DISTINCT pid) FROM alerts', 'gather'],
    ['SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY pid) FROM logs', 'gather'],
    ['SELECT host_name, row_number() OVER (ORDER BY time) FROM alerts', 'gather'],
    // Plain DISTINCT of columns is a GROUP BY of them; of an expression (maybe a set-returning function) it is gathered.
    ['SELECT DISTINCT host_name, pid FROM alerts ORDER BY 1, 2', 'partial-aggregate'],
    ['SELECT DISTINCT lower(host_name) FROM alerts', 'gather'],
    ['SELECT DISTINCT unnest(tags) FROM alerts', 'gather'],
    // DISTINCT ON its leading ORDER BY columns merges; on an expression, or without ORDER BY, it is gathered.
    ['SELECT DISTINCT ON (host_name) host_name, time FROM logs ORDER BY host_name, time DESC', 'merge-sorted'],
    ['SELECT DISTINCT ON (2, host_name) host_name, pid, time FROM logs ORDER BY pid, 1, time LIMIT 3', 'merge-sorted'],
    ['SELECT DISTINCT ON (lower(host_name)) host_name, time FROM logs ORDER BY lower(host_name), time', 'gather'],
    ['SELECT DISTINCT ON (host_name) host_name, time FROM logs', 'gather'],
    ['SELECT lower(host_name) FROM alerts ORDER BY lower(host_name)', 'gather'],
    ['SELECT a.host_name, l.pid FROM alerts a JOIN logs l ON a.host_name = l.host_name', 'union'],
    ['SELECT a.host_name, l.pid FROM alerts a JOIN logs l ON a.pid = l.pid', 'gather'],
    ['WITH x AS (SELECT * FROM alerts) SELECT count(*) FROM x', 'partial-aggregate'],
    ['SELECT host_name, cluster_name, GROUPING(host_name), count(*) FROM alerts GROUP BY ROLLUP (host_name, cluster_name)', 'partial-aggregate'],
    ['SELECT host_name, count(*) FROM alerts GROUP BY GROUPING SETS ((host_name, cluster_name), ()), CUBE (pid)', 'partial-aggregate'],
    ['SELECT host_name, count(*) FROM alerts GROUP BY ROLLUP (1)', 'gather'],
    ['WITH x AS MATERIALIZED (SELECT * FROM alerts) SELECT count(*) FROM x', 'gather'],
    ['SELECT * FROM fedgres.edges', 'gather'],
    ["SELECT * FROM alerts WHERE host_name = 'h3'", 'router'],
    ["SELECT count(DISTINCT pid) FROM alerts WHERE host_name = 'h3'", 'router'],
    // ORDER BY pid means the output column pid::text (its implicit name), which the edges cannot merge on.
    ['SELECT pid::text FROM alerts ORDER BY pid LIMIT 5', 'gather'],
    ['SELECT pid, time FROM alerts ORDER BY pid LIMIT 5', 'merge-sorted'],
    ['SELECT FROM alerts ORDER BY time LIMIT 2', 'gather'],
    ['SELECT count(*) FROM alerts LIMIT (SELECT count(*) FROM logs)', 'gather'],
    ['SELECT max(host_name COLLATE "POSIX") FROM alerts', 'gather'],
    ["SELECT 'x' AS k, count(*) FROM alerts GROUP BY k", 'gather'],
  ]
  for (const [sql, tier] of cases) test(`${tier}: ${sql}`, () => assert.equal(planOf(sql).tier, tier))
})

test('DISTINCT ON: the group is the leading keys, the LIMIT (with OFFSET) goes to every edge, no time bound', () => {
  const p = planOf('SELECT DISTINCT ON (host_name) host_name, time FROM logs ORDER BY host_name, time DESC LIMIT 5 OFFSET 2')
  assert.ok(p.tier === 'merge-sorted')
  assert.equal(p.distinctOn, 1)
  assert.deepEqual([p.limit, p.offset, p.timeBound], [5, 2, undefined])
  assert.match(p.fetch.sql, /^SELECT DISTINCT ON \(host_name\) .* LIMIT 7$/)
})

describe('pruning', () => {
  test('a host prunes every edge that never saw it, with a reason', () => {
    const p = planOf("SELECT * FROM alerts WHERE host_name IN ('h1', 'h4') ORDER BY time")
    assert.deepEqual(asked(p), ['e1', 'e3'])
    assert.deepEqual(prunedReasons(p), ["e2: alerts.host_name: holds none of 'h1', 'h4'", "e4: alerts.host_name: holds none of 'h1', 'h4'"])
  })
  test('a cluster, a parameter and = ANY($1) prune alike', () => {
    assert.deepEqual(asked(planOf('SELECT * FROM logs WHERE cluster_name = $1 ORDER BY time', [{ text: 'west' }])), ['e3', 'e4'])
    assert.deepEqual(asked(planOf('SELECT * FROM logs WHERE host_name = ANY($1) ORDER BY time', [{ array: ['h5', 'h3'] }])), ['e2', 'e4'])
  })
  test('a time range prunes edges outside it, Grafana style', () => {
    const from = new Date((T0 + 5.5 * DAY) / 1000).toISOString()
    const to = new Date((T0 + 8 * DAY) / 1000).toISOString()
    assert.deepEqual(asked(planOf(`SELECT count(*) FROM logs WHERE time BETWEEN '${from}' AND '${to}'`)), ['e4'])
    assert.equal(planOf(`SELECT count(*) FROM logs WHERE time >= '${from}'`).tier, 'router')
    assert.deepEqual(asked(planOf(`SELECT * FROM logs WHERE time < '${from}' ORDER BY time`)), ['e1', 'e2', 'e3'])
  })
  test('a timestamp without time zone ignores a zone in its text, as PostgreSQL does, in literals and parameters', () => {
    // 6.1 days in, written at +05: as a timestamp it is 6.1 days (e4 holds days 6-7); as a timestamptz, 5.89.
    const wall = new Date((T0 + 6.1 * DAY) / 1000).toISOString().replace('T', ' ').replace('Z', '+05')
    for (const sql of [`SELECT count(*) FROM logs WHERE time < '${wall}'::timestamp`, `SELECT count(*) FROM logs WHERE time < timestamp '${wall}' + interval '1 second'`, `SELECT count(*) FROM logs WHERE time < ('${wall}'::text)::timestamp`]) {
      assert.deepEqual(asked(planOf(sql)), ['e1', 'e2', 'e3', 'e4'], sql)
    }
    assert.deepEqual(asked(planOf(`SELECT count(*) FROM logs WHERE time < '${wall}'::timestamptz`)), ['e1', 'e2', 'e3'])
    assert.deepEqual(asked(planOf(`SELECT count(*) FROM logs WHERE time < ('${wall}'::timestamptz)::timestamp`)), ['e1', 'e2', 'e3'])
    assert.deepEqual(asked(planOf('SELECT count(*) FROM logs WHERE time < $1::timestamp', [{ text: wall }])), ['e1', 'e2', 'e3', 'e4'])
    assert.deepEqual(asked(planOf('SELECT count(*) FROM logs WHERE time < $1', [{ text: wall, withoutZone: true }])), ['e1', 'e2', 'e3', 'e4'])
    assert.deepEqual(asked(planOf('SELECT count(*) FROM logs WHERE time < $1', [{ text: wall }])), ['e1', 'e2', 'e3'])
    // A timestamptz parameter is an instant before any cast: its zone counts.
    assert.deepEqual(asked(planOf('SELECT count(*) FROM logs WHERE time < $1::timestamp', [{ text: wall, instant: true }])), ['e1', 'e2', 'e3'])
  })
  test('a table given column aliases is read through a subquery that renames them (then pulled up), and pruning does not read renamed columns as others', () => {
    const p = planOf("SELECT count(*) FROM alerts a(t, e, ts, ut, c, namespace_name, host_name) WHERE host_name = 'default'")
    assert.equal(p.tier, 'partial-aggregate')
    assert.deepEqual(asked(p), ['e1', 'e2', 'e3', 'e4'])
    // "host_name" here is the table's namespace_name.
    assert.match(p.tier === 'partial-aggregate' ? p.fetch.sql : '', /WHERE namespace_name = 'default'/)
    const j = planOf("SELECT count(*) FROM alerts a(t, e, ts, ut, c, namespace_name, host_name), logs l WHERE a.host_name = 'default' AND a.t = l.time")
    assert.equal(j.tier, 'gather')
    assert.match(j.tier === 'gather' ? j.localSql : '', /cluster_name AS c, host_name AS namespace_name/)
  })
  test('a subquery in FROM that only selects and filters (as BI tools wrap a table) is pulled up: its tier and pruning are the table\'s', () => {
    const p = planOf("SELECT host_name, count(*) FROM (SELECT * FROM alerts WHERE cluster_name = 'west') AS virtual_table GROUP BY host_name ORDER BY 2 DESC LIMIT 10")
    assert.equal(p.tier, 'partial-aggregate')
    assert.deepEqual(asked(p), ['e3', 'e4'])
    const pbi = planOf('SELECT "_"."h" FROM (SELECT "_"."host_name" AS "h", "_"."time" AS "t" FROM (SELECT * FROM "public"."logs" "$Table") "_") "_" WHERE "_"."h" = $1 ORDER BY "_"."t" DESC LIMIT 5', [{ text: 'h4' }])
    assert.equal(pbi.tier, 'router')
    assert.deepEqual(asked(pbi), ['e3'])
    // Power BI's visual: the groups of an aggregate subquery, filtered and capped, are one grouped statement.
    const visual = planOf("SELECT * FROM (SELECT host_name AS h, count(*) AS a0 FROM alerts WHERE cluster_name = 'west' GROUP BY 1) \"_\" WHERE NOT a0 IS NULL LIMIT 1000001")
    assert.equal(visual.tier, 'partial-aggregate')
    assert.deepEqual(asked(visual), ['e3', 'e4'])
    // So is a window over them. An aggregate of them is gathered, but the edges apply the WHERE, and ship only the grouping column.
    const ranked = planOf("SELECT h, rank() OVER (ORDER BY a0) FROM (SELECT host_name AS h, count(*) AS a0 FROM alerts WHERE cluster_name = 'west' GROUP BY 1) \"_\"")
    assert.equal(ranked.tier, 'partial-aggregate')
    const agg = planOf("SELECT count(*), max(a0) FROM (SELECT host_name AS h, count(*) AS a0 FROM alerts WHERE time > '2026-01-06' GROUP BY 1) \"_\"")
    assert.equal(agg.tier, 'gather')
    assert.equal(agg.tier === 'gather' ? agg.feeds[0]!.columns.filter((c) => c.needed).map((c) => c.name).join() : '', 'host_name')
  })
  test('a join given an alias ships every column (its whole row or renamed columns can name any); a whole row or TABLESAMPLE of a column-aliased table is 0A000', () => {
    const p = planOf("SELECT count(*) FROM (alerts a CROSS JOIN (SELECT 1) o) AS x(c1, c2) WHERE c2 = 'edge-1'")
    assert.equal(p.tier, 'gather')
    assert.equal(p.tier === 'gather' ? p.feeds[0]!.columns.every((c) => c.needed) : false, true)
    for (const sql of ['SELECT pg_typeof(a)::text FROM alerts a(t) LIMIT 1', 'SELECT count(*) FROM alerts a(t) TABLESAMPLE bernoulli(100)']) {
      assert.throws(() => planOf(sql), (e: { code?: string }) => e.code === '0A000', sql)
    }
  })
  test('a LIMIT past 2^53 is not pushed (its sum with OFFSET would overflow int8 on the edges)', () => {
    for (const sql of ['SELECT time FROM logs ORDER BY time LIMIT $1 OFFSET 5', 'SELECT time FROM logs LIMIT $1', 'SELECT time FROM logs ORDER BY time LIMIT 9223372036854775807']) {
      const p = planOf(sql, [{ text: '9223372036854775807' }])
      assert.ok(p.tier === 'merge-sorted' || p.tier === 'union', `${sql}: ${p.tier}`)
      assert.doesNotMatch(p.fetch.sql, /LIMIT/, sql)
    }
  })
  test('now() minus a fixed interval prunes in a UTC session (not where days have DST)', () => {
    assert.equal(asked(planOf("SELECT * FROM logs WHERE time > now() - interval '1 hour'")).length, 0)
    assert.equal(asked(planOf("SELECT * FROM logs WHERE time > now() - interval '1 hour'", [], EDGES, { utcSession: false })).length, 4)
    assert.equal(asked(planOf("SELECT * FROM logs WHERE time > now() - interval '1 month'")).length, 4)
  })
  test('tags @> prunes edges that never applied the tag', () => {
    assert.equal(planOf("SELECT * FROM alerts WHERE tags @> ARRAY['pci']").tier, 'router')
  })
  test('what cannot prune never prunes: OR, functions, unknown parameters, stale or capped synopses', () => {
    assert.equal(asked(planOf("SELECT * FROM alerts WHERE host_name = 'h1' OR pid = 1")).length, 4)
    assert.equal(asked(planOf("SELECT * FROM alerts WHERE lower(host_name) = 'h1'")).length, 4)
    assert.equal(asked(planOf('SELECT * FROM alerts WHERE host_name = $1', [undefined])).length, 4)
    assert.equal(asked(planOf("SELECT * FROM alerts WHERE host_name = 'zz'", [], EDGES, { now: 60_000 })).length, 4)
    const capped = EDGES.map((e) => ({ ...e, synopsis: { ...e.synopsis!, tables: { ...e.synopsis!.tables, alerts: { ...e.synopsis!.tables.alerts, values: { ...e.synopsis!.tables.alerts.values, host_name: 'any' as const } } } } }))
    assert.equal(asked(planOf("SELECT * FROM alerts WHERE host_name = 'zz'", [], capped)).length, 4)
  })
  test('a cast that can change the value prunes nothing: a length, a precision, an array type', () => {
    // PostgreSQL compares 'h1-extra'::varchar(2), which is 'h1': e1 holds it.
    assert.deepEqual(asked(planOf("SELECT * FROM alerts WHERE host_name = 'h1-extra'::varchar(2) ORDER BY time")), ['e1', 'e2', 'e3', 'e4'])
    assert.deepEqual(asked(planOf("SELECT * FROM alerts WHERE host_name IN ('h1-x'::character varying(2), 'h4') ORDER BY time")), ['e1', 'e2', 'e3', 'e4'])
    assert.deepEqual(asked(planOf("SELECT * FROM alerts WHERE host_name = ANY('{h1-x}'::varchar(2)[]) ORDER BY time")), ['e1', 'e2', 'e3', 'e4'])
    assert.deepEqual(asked(planOf('SELECT * FROM alerts WHERE host_name = $1::varchar(2) ORDER BY time', [{ text: 'h1-x' }])), ['e1', 'e2', 'e3', 'e4'])
    // timestamptz(0) rounds 0.4 s before day 6 up to day 6 itself, where e4's rows begin.
    const late = new Date((T0 + 6 * DAY) / 1000 - 400).toISOString()
    assert.deepEqual(asked(planOf(`SELECT * FROM logs WHERE time <= '${late}'::timestamptz(0) ORDER BY time`)), ['e1', 'e2', 'e3', 'e4'])
    // Without a length they still prune.
    assert.deepEqual(asked(planOf("SELECT * FROM alerts WHERE host_name = 'h1'::varchar ORDER BY time")), ['e1'])
    assert.deepEqual(asked(planOf("SELECT * FROM alerts WHERE host_name = ANY('{h1,h4}'::text[]) ORDER BY time")), ['e1', 'e3'])
  })
  test('a time literal without a zone prunes only in a UTC session', () => {
    assert.equal(parseTimestampMicros('2026-11-01 00:00:00', false), undefined)
    assert.equal(parseTimestampMicros('2026-11-01 00:00:00', true), T0)
    assert.equal(parseTimestampMicros('2026-11-01T01:00:00.000001+01:00', false), T0 + 1)
  })
  test('a shard whose replicas are all critical is reported unavailable, not silently skipped', () => {
    const edges = [...EDGES.slice(0, 3), { ...EDGES[3]!, status: 'critical' as const }]
    const p = planOf('SELECT * FROM alerts', [], edges)
    assert.ok(p.tier === 'union')
    assert.deepEqual(p.fetch.unavailable, [{ shard: 'e4', edgeIds: ['e4'] }])
  })
  test('a shard with no healthy replica whose fresh synopsis rules it out is pruned, not a failure', () => {
    const edges = [...EDGES.slice(0, 3), { ...EDGES[3]!, status: 'critical' as const }]
    // e4 holds host h5 only: a statement on h1 cannot need it.
    const p = planOf("SELECT * FROM alerts WHERE host_name = 'h1'", [], edges)
    assert.ok(p.tier === 'router')
    assert.deepEqual(p.fetch.unavailable, [])
    assert.ok(p.fetch.pruned.some((x) => x.edgeId === 'e4'))
    // One on h5 needs it: unavailable.
    const q = planOf("SELECT * FROM alerts WHERE host_name = 'h5'", [], edges)
    assert.match(JSON.stringify(q), /"unavailable":\[\{"shard":"e4","edgeIds":\["e4"\]\}\]/)
  })
  test('replicas of a shard: the healthy one is asked first', () => {
    const edges = [edge('r1', ['h1'], 'east', { shard: 's', status: 'warning' }), edge('r2', ['h1'], 'east', { shard: 's' })]
    const p = planOf('SELECT * FROM alerts', [], edges)
    assert.ok(p.tier === 'router')
    assert.deepEqual(p.fetch.targets[0]!.replicas.map((r) => r.edgeId), ['r2', 'r1'])
  })
  test('replicas of a shard: equally healthy ones take turns going first, a degraded one stays last', () => {
    const edges = [edge('r1', ['h1'], 'east', { shard: 's' }), edge('r2', ['h1'], 'east', { shard: 's' }), edge('r3', ['h1'], 'east', { shard: 's', status: 'warning' })]
    const order = (turn: number) => {
      const p = planOf('SELECT * FROM alerts', [], edges, { replicaTurn: turn })
      assert.ok(p.tier === 'router')
      return p.fetch.targets[0]!.replicas.map((r) => r.edgeId)
    }
    assert.deepEqual([0, 1, 2, 3].map(order), [['r1', 'r2', 'r3'], ['r2', 'r1', 'r3'], ['r1', 'r2', 'r3'], ['r2', 'r1', 'r3']])
  })
})

describe('what edges are sent', () => {
  test('LIMIT with OFFSET is pushed down as LIMIT+OFFSET, sort keys travel as hidden columns', () => {
    const p = planOf('SELECT host_name FROM logs ORDER BY time DESC LIMIT 5 OFFSET 10')
    assert.ok(p.tier === 'merge-sorted')
    assert.match(p.fetch.sql, /LIMIT 15/)
    assert.doesNotMatch(p.fetch.sql, /OFFSET/)
    assert.match(p.fetch.sql, /AS __k1/)
    assert.deepEqual([p.offset, p.limit], [10, 5])
  })
  test('partial aggregates: avg ships sum and count, HAVING and ORDER BY stay at the gateway', () => {
    const p = planOf('SELECT host_name, avg(pid) AS a FROM logs GROUP BY host_name HAVING count(*) > 1 ORDER BY a DESC LIMIT 2')
    assert.ok(p.tier === 'partial-aggregate')
    assert.equal(p.fetch.sql.replace(/\s+/g, ' '), 'SELECT host_name AS g1, sum(pid) AS p1, count(pid) AS p2, count(*) AS p3 FROM logs GROUP BY host_name')
  })
  test('now() becomes the statement timestamp, the same for every edge', () => {
    const p = planOf("SELECT host_name, now() - time AS age FROM logs WHERE time > CURRENT_TIMESTAMP - interval '60 days'")
    assert.ok(p.tier === 'union')
    assert.equal(p.fetch.targets.length, 4)
    assert.match(p.fetch.sql, /CAST\('2026-11-22 12:00:00\+00' AS timestamp with time zone\)/)
  })
  test('CURRENT_TIMESTAMP(p) and its kin become the transaction time at that precision, the same for every edge', () => {
    const p = planOf('SELECT host_name, current_timestamp(0) AS a, localtimestamp(3) AS b, current_time(2) AS c, localtime(0) AS d, bool_and(time < localtimestamp(6)) AS e FROM logs GROUP BY 1')
    assert.ok(p.tier === 'partial-aggregate')
    const sql = `${p.fetch.sql} ${JSON.stringify(p.combine.select)}`
    assert.doesNotMatch(sql, /SVFOP/)
    assert.ok(p.fetch.sql.includes("CAST(CAST('2026-11-22 12:00:00+00' AS timestamp with time zone) AS timestamp(6))"), p.fetch.sql)
    assert.match(JSON.stringify(p.combine.select), /"timestamptz"\]?.*"typmods"/)
  })
  test('gather ships only the needed columns, with counts, and pushes single-table conjuncts, which the local statement then leaves out', () => {
    const p = planOf("SELECT count(DISTINCT pid) FROM logs WHERE host_name = 'h1' AND pid > 3")
    assert.ok(p.tier === 'router' || p.tier === 'gather')
    const g = planOf("SELECT count(DISTINCT pid) FROM logs WHERE cluster_name = 'east' AND pid > 3")
    assert.ok(g.tier === 'gather')
    // cluster_name is read by the pushed conjunct alone: not shipped, and not filtered again.
    assert.equal(g.feeds[0]!.fetch!.sql, `SELECT "logs"."pid", count(*) FROM public.logs AS "logs" WHERE (cluster_name = 'east') AND (pid > 3) GROUP BY 1`)
    // pid travels in binary, bound as an int4[] and the counts as an int8[].
    assert.match(g.localSql.replace(/\s+/g, ' '), /u\.c0 AS pid, .* FROM unnest\(\$1, \$2\) AS u\(c0, n\)/)
    assert.deepEqual(g.feeds[0]!.binaryTypes, [23, 20])
    // count(DISTINCT) cannot tell a repeated row: each fetched row is read once. count(*) can: each is read n times.
    assert.doesNotMatch(g.localSql, /generate_series/)
    const n = planOf("SELECT count(DISTINCT pid), count(*) FROM logs WHERE cluster_name = 'east'")
    assert.ok(n.tier === 'gather')
    assert.match(n.localSql, /generate_series\(1, u\.n\)/)
    // tags (text[]) has no array type of its own: that feed's rows come as text arrays, cast.
    const t = planOf("SELECT count(DISTINCT tags) FROM logs WHERE cluster_name = 'east'")
    assert.ok(t.tier === 'gather' && t.feeds[0]!.binaryTypes === undefined)
    assert.match(t.localSql.replace(/\s+/g, ' '), /unnest\(CAST\(\$1 AS text\[\]\), CAST\(\$2 AS int8\[\]\)\)/)
    assert.doesNotMatch(g.localSql, /WHERE/)
    // A conjunct the edges cannot apply (a subquery) stays, with the columns it reads.
    const s = planOf("SELECT count(DISTINCT pid) FROM logs WHERE cluster_name = 'east' AND pid > (SELECT 3)")
    assert.ok(s.tier === 'gather')
    assert.equal(s.feeds[0]!.fetch!.sql, `SELECT "logs"."pid", count(*) FROM public.logs AS "logs" WHERE (cluster_name = 'east') GROUP BY 1`)
    assert.match(s.localSql, /WHERE pid > \(+SELECT 3\)+$/)
  })

  test('with a subquery, each table is filtered (and its edges pruned) by the WHERE of the SELECT that reads it alone; correlated and outer columns stay', () => {
    const g = planOf(
      "SELECT l.time, (SELECT count(*) FROM alerts b WHERE b.pid = l.pid AND b.host_name = 'h1' AND severity > 2 AND pid > l.pid) FROM logs l WHERE l.cluster_name = 'west' AND l.time < now() ORDER BY 1",
    )
    assert.ok(g.tier === 'gather')
    const feed = (table: string) => g.feeds.map((f) => f.fetch!).find((f) => f.sql.includes(`FROM public.${table} `))!
    const [outer, inner] = [feed('logs'), feed('alerts')]
    assert.match(outer!.sql, / WHERE \(l\.cluster_name = 'west'\) AND \(l\."time" < CAST/)
    // b.pid = l.pid and pid > l.pid read the outer row; severity (alerts' own) and b.host_name are the subquery's.
    assert.match(inner!.sql, / WHERE \(b\.host_name = 'h1'\) AND \(severity > 2\) GROUP BY/)
    assert.deepEqual(outer!.targets.flatMap((t) => t.replicas.map((r) => r.edgeId)).sort(), ['e3', 'e4'])
    assert.deepEqual(inner!.targets.flatMap((t) => t.replicas.map((r) => r.edgeId)), ['e1'])
    // An unqualified column the subquery's table lacks is the outer query's: not pushed.
    const h = planOf('SELECT count(*) FROM alerts a WHERE EXISTS (SELECT 1 FROM logs WHERE logs.pid = a.pid AND policy_name IS NOT NULL)')
    assert.ok(h.tier === 'gather')
    assert.doesNotMatch(h.feeds.map((f) => f.fetch!).find((f) => f.sql.includes('FROM public.logs '))!.sql, /WHERE/)
  })
})

describe('router SQL', () => {
  const treeOf = selectOf
  const routerSql = (select: Record<string, unknown>, statementTime: string) => {
    const p = plan(planInput(select, EDGES, { statementTime, searchPath: ['public'] }))
    assert.equal(p.tier, 'router')
    return p.tier === 'router' ? p.fetch.sql : ''
  }

  test('a repeated tree gives the same SQL; a changed one its own', () => {
    const a = treeOf("SELECT pid FROM logs WHERE host_name = 'h3' AND pid > 2")
    const first = routerSql(a, '2026-11-22 12:00:00+00')
    assert.match(first, /host_name = 'h3'/)
    assert.equal(routerSql(a, '2026-11-22 12:00:01+00'), first)
    assert.match(routerSql(treeOf("SELECT pid FROM logs WHERE host_name = 'h3' AND pid > 3"), '2026-11-22 12:00:00+00'), /pid > 3/)
  })

  test('a statement reading the clock gets each statement time', () => {
    const t = treeOf("SELECT pid FROM logs WHERE host_name = 'h3' AND time > now() - interval '1 hour'")
    assert.match(routerSql(t, '2026-11-04 12:00:00+00'), /'2026-11-04 12:00:00\+00'/)
    assert.match(routerSql(t, '2026-11-04 12:00:07+00'), /'2026-11-04 12:00:07\+00'/)
  })
})

describe('plans of a repeated statement (the parse cache gives the same frozen tree each time)', () => {
  const deepFreeze = <T>(o: T): T => {
    if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
      for (const k in o) deepFreeze((o as Record<string, unknown>)[k])
      Object.freeze(o)
    }
    return o
  }
  const frozen = (sql: string) => deepFreeze(selectOf(sql))
  const input = (select: Record<string, unknown>, extra: Partial<PlanInput> = {}): PlanInput => planInput(select, EDGES, extra)

  test('each plan prunes against its own edges and parameters; the SQL is the same', () => {
    const t = frozen('SELECT time, pid FROM logs WHERE cluster_name = $1 ORDER BY time LIMIT 5')
    const west = plan(input(t, { params: [{ text: 'west' }], paramCount: 1 }))
    const east = plan(input(t, { params: [{ text: 'east' }], paramCount: 1 }))
    assert.deepEqual([asked(west), asked(east)], [['e3', 'e4'], ['e1', 'e2']])
    const more = plan(input(t, { params: [{ text: 'west' }], paramCount: 1, edges: [...EDGES, edge('e5', ['h6'], 'west')] }))
    assert.deepEqual(asked(more), ['e3', 'e4', 'e5'])
    assert.ok(west.tier === 'merge-sorted' && more.tier === 'merge-sorted')
    assert.equal(more.fetch.sql, west.fetch.sql)
  })

  test('a statement without parameters keeps its restrictions per session time zone', () => {
    const t = frozen("SELECT count(*) FROM logs WHERE time >= '2026-11-07 00:00:00'")
    // A time without a zone prunes only in a UTC session, however often the statement is planned.
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(asked(plan(input(t, { utcSession: true }))), ['e4'])
      assert.equal(asked(plan(input(t, { utcSession: false }))).length, 4)
    }
  })

  test('the search path is part of what a statement means', () => {
    const t = frozen("SELECT pid FROM logs WHERE host_name = 'h3'")
    assert.equal(plan(input(t)).tier, 'router')
    assert.equal(plan(input(t, { searchPath: ['pg_catalog'] })).tier, 'gather', 'logs is not an event table on this path')
    assert.equal(plan(input(t)).tier, 'router')
  })

  test('a gather plan is rebuilt around each view: targets follow the edges, the SQL stays', () => {
    const t = frozen("SELECT count(DISTINCT pid) FROM logs WHERE cluster_name = 'east'")
    const all = plan(input(t))
    const some = plan(input(t, { edges: [...EDGES, edge('e5', ['h6'], 'east')] }))
    assert.ok(all.tier === 'gather' && some.tier === 'gather')
    assert.deepEqual([asked(all), asked(some)], [['e1', 'e2'], ['e1', 'e2', 'e5']])
    assert.equal(some.localSql, all.localSql)
    assert.equal(some.feeds[0]!.fetch!.sql, all.feeds[0]!.fetch!.sql)
  })

  test('a frozen statement reading the clock still gets each statement time', () => {
    const t = frozen("SELECT pid FROM logs WHERE host_name = 'h3' AND time > now() - interval '1 hour'")
    const sqlAt = (statementTime: string) => {
      const p = plan(input(t, { statementTime }))
      return p.tier === 'router' ? p.fetch.sql : ''
    }
    assert.match(sqlAt('2026-11-04 12:00:00+00'), /'2026-11-04 12:00:00\+00'/)
    assert.match(sqlAt('2026-11-04 12:00:07+00'), /'2026-11-04 12:00:07\+00'/)
  })
})

describe('the session\'s own functions', () => {
  const session = { currentUser: 'analyst', database: 'fedgres', version: 'PostgreSQL 18', schema: 'public', schemas: { implicit: '{pg_catalog,public}', explicit: '{public}' } }
  const sqlOf = (p: Plan) => (p.tier === 'gather' ? p.feeds[0]!.fetch!.sql : p.fetch.sql)

  test('identity functions reach the edges as the session\'s values', () => {
    const p = planOf('SELECT current_user, current_database(), version(), current_schemas(false), time FROM alerts ORDER BY time LIMIT 1', [], EDGES, { session })
    assert.equal(p.tier, 'merge-sorted')
    const sql = sqlOf(p).replace(/\s+/g, ' ')
    assert.match(sql, /CAST\('analyst' AS pg_catalog\.name\), CAST\('fedgres' AS pg_catalog\.name\), 'PostgreSQL 18'::text, CAST\('\{public\}' AS pg_catalog\.name\[\]\)/)
    assert.doesNotMatch(sqlOf(p), /current_|version\(/i)
  })

  test('functions only the gateway may evaluate send the statement to the gather tier, and are never pushed', () => {
    const p = planOf("SELECT time FROM alerts WHERE current_setting('application_name') = 'x' AND host_name = 'h1'", [], EDGES, { session })
    assert.equal(p.tier, 'gather')
    assert.doesNotMatch(sqlOf(p), /current_setting/)
    assert.match(sqlOf(p), /host_name = 'h1'/)
  })

  test('ONLY on an event table reads its partitions on the edges', () => {
    const p = planOf('SELECT time FROM ONLY alerts ORDER BY time LIMIT 3')
    assert.doesNotMatch(sqlOf(p), /\bONLY\b/i)
  })
})

describe('time-bounded top-N over a wide fan-out', () => {
  // 20 shards, shard i holding days [i, i + 1]: the newest data is on e19, the oldest on e0.
  const wide = Array.from({ length: 20 }, (_, i) => edge(`w${String(i).padStart(2, '0')}`, [`wh${i}`], 'east', { days: [i, i + 1] }))
  const bounded = (sql: string, edges = wide) => {
    const p = planOf(sql, [], edges)
    assert.equal(p.tier, 'merge-sorted')
    return p.tier === 'merge-sorted' ? p.timeBound : undefined
  }

  test('ORDER BY time DESC LIMIT n asks the shards with the newest data first; the rest only if they can reach the bar', () => {
    const b = bounded('SELECT time, host_name FROM logs ORDER BY time DESC LIMIT 5')!
    assert.deepEqual(b.first.map((t) => t.shard), ['w19', 'w18', 'w17', 'w16'])
    assert.equal(b.later.length, 16)
    // The 5th row found is on day 16.5: no other shard holds a row that late.
    assert.deepEqual(laterTargets(b, T0 + 16.5 * DAY).targets, [])
    const { targets, pruned } = laterTargets(b, T0 + 14.5 * DAY)
    assert.deepEqual(targets.map((t) => t.shard).sort(), ['w14', 'w15'])
    assert.equal(pruned.length, 14)
    assert.match(pruned[0]!.reason, /logs\.time: every row is older than the 5th row found on the shards asked first/)
    // Fewer rows than the answer needs: every other shard is asked.
    assert.equal(laterTargets(b, null).targets.length, 16)
  })

  test('ascending order bars from below; OFFSET counts; a shard without a current synopsis goes first', () => {
    const stale = wide.map((e, i) => (i === 3 ? { ...e, synopsisCurrentAt: -1_000_000 } : e))
    const b = bounded('SELECT time FROM logs ORDER BY time LIMIT 3 OFFSET 2', stale)!
    assert.equal(b.rows, 5)
    assert.deepEqual(b.first.map((t) => t.shard), ['w03', 'w00', 'w01', 'w02', 'w04'])
    assert.deepEqual(laterTargets(b, T0 + 5.5 * DAY).targets.map((t) => t.shard), ['w05'])
  })

  test('not used where it cannot pay: few shards, a large LIMIT, no LIMIT, or another first key', () => {
    assert.equal(bounded('SELECT time FROM logs ORDER BY time DESC LIMIT 5', wide.slice(0, 10)), undefined)
    assert.equal(bounded('SELECT time FROM logs ORDER BY time DESC LIMIT 5000'), undefined)
    assert.equal(bounded('SELECT time FROM logs ORDER BY time DESC'), undefined)
    assert.equal(bounded('SELECT time, host_name FROM logs ORDER BY host_name, time LIMIT 5'), undefined)
    // Every shard holds rows up to the same time (live edges): a second round would ask them all.
    const live = Array.from({ length: 20 }, (_, i) => edge(`l${i}`, [`lh${i}`], 'east', { days: [0, 7] }))
    assert.equal(bounded('SELECT time FROM logs ORDER BY time DESC LIMIT 5', live), undefined)
  })
})
