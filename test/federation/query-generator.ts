/**
 * Queries for the differential test: a fixed list naming each planner tier and each hard case,
 * and a seeded generator composing random predicates, projections, aggregates, groupings, orders
 * and limits. Every query says whether its ORDER BY fixes the row order (time is unique in the
 * dataset, so ORDER BY ... , time does).
 */
export interface TestQuery {
  readonly sql: string
  readonly params?: unknown[]
  readonly ordered: boolean
  readonly category: string
}

export const HOSTS = ['node-1a', 'node-1b', 'node-2a', 'node-2b', 'node-3a', 'node-3b', 'node-4a', 'node-4b']
export const CLUSTERS = ['prod-eu', 'prod-us', 'staging']
export const iso = (day: number, hour = 0, minute = 0) => new Date(Date.UTC(2026, 9, 1 + day, hour, minute)).toISOString()

export const FIXED: TestQuery[] = [
  { category: 'router', ordered: true, sql: "SELECT time, host_name, process_name, resource FROM logs WHERE host_name = 'node-2a' ORDER BY time DESC LIMIT 20" },
  { category: 'router', ordered: true, sql: "SELECT count(*), count(DISTINCT pod_name), max(time) FROM alerts WHERE host_name = 'node-3b'" },
  { category: 'router', ordered: true, sql: 'SELECT host_name, count(*) FROM logs WHERE host_name = $1 GROUP BY 1', params: ['node-4a'] },
  { category: 'pruned-cluster', ordered: true, sql: "SELECT namespace_name, count(*) FROM alerts WHERE cluster_name = 'prod-eu' GROUP BY 1 ORDER BY 1 NULLS FIRST" },
  { category: 'pruned-time', ordered: true, sql: `SELECT date_trunc('hour', time) AS h, count(*) FROM logs WHERE time BETWEEN '${iso(2, 3)}' AND '${iso(2, 9)}' GROUP BY 1 ORDER BY 1` },
  { category: 'pruned-time', ordered: true, sql: `SELECT count(*) FROM logs WHERE time >= $1 AND time < $2`, params: [iso(5, 12), iso(9)] },
  // Column aliases rename the table's columns: pruning must not read them as the columns of those names.
  { category: 'gather', ordered: true, sql: "SELECT count(*) FROM alerts a(t, e, ts, ut, c, namespace_name, host_name) WHERE host_name = 'default'" },
  { category: 'gather', ordered: true, sql: "SELECT count(*) FROM alerts a(t, e, ts, ut, host_name, hn) JOIN logs l(t, e, ts, ut, host_name, hn) ON a.host_name = l.host_name WHERE a.t < '2026-10-01 01:00' AND l.t < '2026-10-01 01:00'" },
  // A join given an alias: its renamed columns and its whole row read every column.
  { category: 'gather', ordered: true, sql: "SELECT count(*) FROM (alerts a CROSS JOIN (SELECT 1) o) AS x(c1, c2) WHERE c2 = 'edge-1'" },
  { category: 'gather', ordered: true, sql: 'SELECT count(DISTINCT (j).edge_id), count(DISTINCT edge_id(j)) FROM (alerts a CROSS JOIN (SELECT 1) o) j' },
  // A timestamp without time zone ignores the zone written in it; pruning must too.
  { category: 'pruned-time', ordered: true, sql: "SELECT count(*) FROM alerts WHERE time > '2026-10-06 20:00:00-05'::timestamp" },
  { category: 'pruned-time', ordered: true, sql: "SELECT count(*), min(time) FROM logs WHERE time < timestamp '2026-10-01 02:00+05'" },
  { category: 'pruned-time', ordered: true, sql: 'SELECT count(*) FROM logs WHERE time > $1::timestamp', params: ['2026-10-06 20:00:00-05'] },
  { category: 'union', ordered: false, sql: "SELECT host_name, pid, process_name FROM logs WHERE operation = 'Network' AND pid < 200" },
  { category: 'union', ordered: false, sql: "SELECT * FROM alerts WHERE action = 'Block' AND severity >= 8" },
  { category: 'merge-sorted', ordered: true, sql: 'SELECT time, host_name, policy_name FROM alerts ORDER BY time DESC LIMIT 25' },
  { category: 'merge-sorted', ordered: true, sql: 'SELECT time, host_name FROM logs ORDER BY host_name, time LIMIT 30 OFFSET 1000' },
  { category: 'merge-sorted', ordered: true, sql: 'SELECT namespace_name, time FROM alerts ORDER BY namespace_name NULLS FIRST, time LIMIT 50' },
  { category: 'merge-sorted', ordered: true, sql: 'SELECT namespace_name, time FROM alerts ORDER BY namespace_name DESC NULLS LAST, time DESC LIMIT 50' },
  { category: 'offset-beyond', ordered: true, sql: 'SELECT time FROM alerts ORDER BY time LIMIT 10 OFFSET 1000000' },
  { category: 'partial-aggregate', ordered: true, sql: 'SELECT cluster_name, count(*), sum(pid), avg(pid), min(time), max(time) FROM logs GROUP BY cluster_name ORDER BY cluster_name' },
  { category: 'partial-aggregate', ordered: true, sql: 'SELECT host_name, avg(severity), count(severity), bool_and(severity > 2), bool_or(severity = 10) FROM alerts GROUP BY 1 ORDER BY 1' },
  { category: 'partial-aggregate', ordered: true, sql: 'SELECT sum(pid::bigint * 100000000000) AS big, sum(host_pid) AS s FROM logs' },
  { category: 'partial-aggregate', ordered: true, sql: 'SELECT operation, count(*) AS n FROM logs GROUP BY operation HAVING count(*) > 100 ORDER BY n DESC, operation LIMIT 3' },
  { category: 'partial-aggregate', ordered: true, sql: 'SELECT count(*) FILTER (WHERE action = $1) AS blocked, count(*) AS total FROM alerts', params: ['Block'] },
  { category: 'empty', ordered: true, sql: "SELECT count(*), sum(pid), avg(pid), min(time), max(host_name), bool_and(pid > 0) FROM logs WHERE host_name = 'no-such-host'" },
  { category: 'empty', ordered: true, sql: "SELECT host_name, count(*) FROM logs WHERE host_name = 'no-such-host' GROUP BY 1" },
  { category: 'empty', ordered: false, sql: "SELECT * FROM alerts WHERE time < '2000-01-01T00:00:00Z'" },
  { category: 'gather', ordered: true, sql: 'SELECT count(DISTINCT process_name), count(DISTINCT (host_name, pid)) FROM logs' },
  { category: 'gather', ordered: true, sql: 'SELECT host_name, stddev(pid), variance(uid) FROM logs GROUP BY 1 ORDER BY 1' },
  { category: 'gather', ordered: true, sql: "SELECT string_agg(DISTINCT host_name, ',' ORDER BY host_name), array_agg(DISTINCT operation ORDER BY operation) FROM alerts" },
  { category: 'gather', ordered: true, sql: 'SELECT cluster_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY pid), percentile_disc(0.9) WITHIN GROUP (ORDER BY severity) FROM alerts GROUP BY 1 ORDER BY 1' },
  { category: 'gather', ordered: false, sql: 'SELECT DISTINCT namespace_name, operation FROM logs' },
  { category: 'window', ordered: true, sql: "SELECT host_name, time, row_number() OVER (PARTITION BY host_name ORDER BY time) AS rn, count(*) OVER (PARTITION BY host_name) FROM alerts WHERE time < '2026-10-01T06:00:00Z' ORDER BY time" },
  { category: 'window', ordered: true, sql: 'SELECT namespace_name, n, rank() OVER (ORDER BY n DESC) FROM (SELECT namespace_name, count(*) AS n FROM logs GROUP BY 1) t ORDER BY n DESC, namespace_name NULLS FIRST' },
  { category: 'cte', ordered: true, sql: "WITH busy AS (SELECT host_name, count(*) AS n FROM logs WHERE operation = 'File' GROUP BY 1) SELECT host_name, n FROM busy WHERE n > 10 ORDER BY n DESC, host_name" },
  { category: 'subquery', ordered: true, sql: "SELECT count(*) FROM alerts WHERE host_name IN (SELECT host_name FROM logs WHERE cluster_name = 'staging')" },
  { category: 'subquery', ordered: true, sql: 'SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM logs) AS total' },
  // Correlated subqueries: each table filtered at the edges by its own SELECT's WHERE, correlated and outer columns kept back.
  { category: 'subquery', ordered: true, sql: `SELECT a.time, a.pid, (SELECT count(*) FROM alerts b WHERE b.pid = a.pid AND b.time >= '${iso(3)}' AND severity > 3) AS n FROM logs a WHERE a.time >= '${iso(2, 16)}' AND a.time < '${iso(2, 17)}' AND a.host_name = 'node-1a' ORDER BY 1, 2, 3` },
  { category: 'subquery', ordered: true, sql: `SELECT host_name, count(*) FROM logs l WHERE EXISTS (SELECT 1 FROM alerts a WHERE a.pid = l.pid AND a.host_name = l.host_name AND a.cluster_name = 'prod-eu') AND l.time < '${iso(3)}' GROUP BY 1 ORDER BY 1` },
  { category: 'subquery', ordered: true, sql: `SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM logs WHERE logs.pid = a.pid AND policy_name IS NOT NULL AND namespace_name = 'default')` },
  // Co-located subqueries (a host lives on one shard): each edge answers them for its own rows.
  { category: 'subquery-colocated', ordered: true, sql: `SELECT host_name, time, pid FROM alerts a WHERE a.time >= '${iso(3)}' AND a.time = (SELECT max(time) FROM alerts b WHERE b.host_name = a.host_name AND b.time >= '${iso(3)}') ORDER BY 1, 2, 3` },
  { category: 'subquery-colocated', ordered: true, sql: `SELECT count(*), min(time) FROM alerts a WHERE a.time < '${iso(1)}' AND a.time > (SELECT min(time) + interval '3 hours' FROM alerts b WHERE b.host_name = a.host_name AND b.time < '${iso(1)}')` },
  { category: 'subquery-colocated', ordered: false, sql: `SELECT a.host_name, a.pid, (SELECT count(*) FROM logs l WHERE l.host_name = a.host_name AND l.pid = a.pid) AS n FROM alerts a WHERE a.time >= '${iso(4, 12)}' AND a.time < '${iso(4, 13)}'` },
  { category: 'subquery-colocated', ordered: true, sql: `SELECT count(*) FROM logs l WHERE l.time >= '${iso(5)}' AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.container_id = l.container_id AND a.time >= '${iso(5)}')` },
  { category: 'subquery-colocated', ordered: true, sql: `SELECT host_name, count(*) FROM alerts a WHERE time >= '${iso(6)}' AND a.pid IN (SELECT pid FROM logs l WHERE l.host_name = a.host_name AND l.time >= '${iso(6)}' AND l.operation = 'Process') GROUP BY 1 ORDER BY 1` },
  { category: 'subquery-colocated', ordered: true, sql: `SELECT time, host_name, pid FROM logs l WHERE EXISTS (SELECT 1 FROM alerts a WHERE a.host_name = l.host_name AND a.pid = l.pid AND a.severity >= 5) ORDER BY time DESC LIMIT 15` },
  { category: 'subquery-colocated', ordered: true, sql: `SELECT count(*) FROM alerts a WHERE a.host_name = $1 AND a.time = (SELECT max(time) FROM alerts b WHERE b.host_name = a.host_name)`, params: ['node-2b'] },
  { category: 'window', ordered: true, sql: `SELECT time, host_name, row_number() OVER (PARTITION BY host_name ORDER BY time, pid) AS r FROM alerts WHERE cluster_name = 'staging' AND time < '${iso(2)}' ORDER BY 2, 3` },
  { category: 'join-colocated', ordered: true, sql: "SELECT a.host_name, count(*) FROM alerts a JOIN logs l ON a.host_name = l.host_name AND a.pid = l.pid WHERE l.operation = 'Process' GROUP BY 1 ORDER BY 1" },
  { category: 'join-colocated', ordered: false, sql: "SELECT a.time, l.time, a.host_name FROM alerts a JOIN logs l ON a.host_name = l.host_name AND a.container_id = l.container_id AND a.pid = l.pid WHERE a.action = 'Block' AND l.time BETWEEN a.time - interval '1 minute' AND a.time" },
  { category: 'join', ordered: true, sql: "SELECT count(*) FROM alerts a JOIN logs l ON a.pid = l.pid AND a.process_name = l.process_name WHERE a.time < '2026-10-01T12:00:00Z' AND l.time < '2026-10-01T12:00:00Z'" },
  { category: 'date_bin', ordered: true, sql: "SELECT date_bin('15 minutes', time, TIMESTAMPTZ '2026-01-01') AS b, count(*) FROM alerts WHERE time >= $1 AND time < $2 GROUP BY 1 ORDER BY 1", params: [iso(1), iso(1, 6)] },
  { category: 'grafana', ordered: true, sql: `SELECT $__interval AS time, count(*) FROM logs WHERE time BETWEEN '${iso(3)}' AND '${iso(4)}' GROUP BY 1 ORDER BY 1`.replace('$__interval', "date_trunc('hour', time)") },
  { category: 'like', ordered: true, sql: "SELECT count(*) FROM logs WHERE process_name LIKE '%sh' OR resource ILIKE '%ETC%'" },
  { category: 'regex', ordered: true, sql: "SELECT operation, count(*) FROM logs WHERE resource ~ '^/(etc|usr)/' GROUP BY 1 ORDER BY 1" },
  { category: 'any-array', ordered: true, sql: 'SELECT host_name, count(*) FROM logs WHERE host_name = ANY($1) GROUP BY 1 ORDER BY 1', params: [['node-1a', 'node-4b', 'nope']] },
  { category: 'tags', ordered: true, sql: "SELECT cluster_name, count(*) FROM alerts WHERE tags @> ARRAY['pci'] GROUP BY 1 ORDER BY 1" },
  { category: 'only', ordered: true, sql: 'SELECT count(*), sum(pid) FROM ONLY logs' },
  { category: 'only', ordered: true, sql: "SELECT time, host_name FROM ONLY alerts WHERE host_name = 'node-2b' ORDER BY time DESC LIMIT 5" },
  { category: 'only', ordered: true, sql: 'SELECT host_name, count(*) FROM ONLY alerts GROUP BY 1 ORDER BY 1' },
  { category: 'tablesample', ordered: true, sql: "SELECT count(*), count(DISTINCT host_name) FROM logs TABLESAMPLE BERNOULLI (100) WHERE operation = 'File'" },
  { category: 'tablesample', ordered: true, sql: 'SELECT count(*) FROM alerts TABLESAMPLE SYSTEM (0)' },
  { category: 'sum-type', ordered: true, sql: 'SELECT sum(pid) / 2, sum(pid) % 7, pg_typeof(sum(pid)), pg_typeof(sum(severity)) FROM alerts' },
  { category: 'sum-type', ordered: true, sql: 'SELECT host_name, sum(pid) / count(*), sum(uid) / 3 FROM logs GROUP BY 1 ORDER BY 1' },
  { category: 'no-params', ordered: true, sql: 'SELECT count(*) FROM logs WHERE time > $1' },
  { category: 'tags', ordered: true, sql: "SELECT count(*) FROM logs WHERE tags @> ARRAY['site:staging'] AND NOT (policy_tags IS NULL AND false)".replace(' AND NOT (policy_tags IS NULL AND false)', '') },
  { category: 'nulls', ordered: true, sql: 'SELECT count(*), count(namespace_name), count(severity), count(policy_tags) FROM alerts WHERE namespace_name IS NULL OR severity IS NULL' },
  { category: 'jsonb', ordered: true, sql: "SELECT count(*) FROM logs WHERE event_data ? 'Seq'" },
  { category: 'fedgres.edges', ordered: true, sql: 'SELECT count(*) FROM fedgres.edges' },
  { category: 'params', ordered: true, sql: 'SELECT time, pid FROM logs WHERE host_name = $1 AND pid > $2 ORDER BY time LIMIT $3', params: ['node-1b', 100, 7] },
  // Found by hand-written BI, type and join queries against the oracle (stop 16).
  { category: 'cast-length', ordered: true, sql: "SELECT count(*) FROM alerts WHERE host_name = 'node-1a-x'::varchar(7)" },
  { category: 'cast-length', ordered: true, sql: "SELECT count(*) FROM alerts WHERE host_name = ANY ('{node-1a-x}'::varchar(7)[])" },
  { category: 'with-ties', ordered: false, sql: 'SELECT severity FROM alerts ORDER BY severity FETCH FIRST 1 ROWS WITH TIES' },
  { category: 'with-ties', ordered: true, sql: 'SELECT count(*) FROM (SELECT time FROM alerts ORDER BY time::date OFFSET 6000 ROWS FETCH FIRST 2 ROWS WITH TIES) s' },
  { category: 'with-ties', ordered: true, sql: "SELECT count(*) FROM (SELECT host_name FROM logs WHERE cluster_name = 'prod-us' ORDER BY host_name FETCH FIRST 1 ROW WITH TIES) s" },
  { category: 'negative-limit', ordered: true, sql: 'SELECT time FROM logs ORDER BY time LIMIT -1' },
  { category: 'negative-limit', ordered: true, sql: 'SELECT host_name FROM alerts LIMIT 2 OFFSET -3' },
  { category: 'negative-limit', ordered: true, sql: 'SELECT time FROM logs ORDER BY time LIMIT $1', params: [-2] },
  { category: 'json-aggregate', ordered: true, sql: "SELECT JSON_ARRAYAGG(host_name ORDER BY host_name) FROM logs WHERE time < '2026-10-01 00:00:01'" },
  { category: 'json-aggregate', ordered: true, sql: "SELECT jsonb_object_agg_unique(cluster_name, 1) FROM logs WHERE time < '2026-10-01 00:00:01'" },
  { category: 'json-aggregate', ordered: true, sql: "SELECT json_object_agg_strict(host_name, pid)::jsonb FROM logs WHERE time < '2026-10-01 00:00:01'" },
  { category: 'avg-real', ordered: true, sql: 'SELECT host_name, avg(uid::real), avg(pid * 2), avg(pid) FROM logs GROUP BY 1 ORDER BY 1' },
  { category: 'row-count', ordered: true, sql: 'SELECT l.host_name, count(l.*) FROM logs l GROUP BY 1 ORDER BY 1' },
  { category: 'schema-qualified', ordered: true, sql: 'SELECT public.alerts.host_name FROM public.alerts ORDER BY public.alerts.time LIMIT 1' },
  { category: 'schema-qualified', ordered: true, sql: 'SELECT alerts.cluster_name, count(DISTINCT public.alerts.host_name) FROM public.alerts GROUP BY public.alerts.cluster_name ORDER BY 1' },
  { category: 'parentheses', ordered: true, sql: 'SELECT count(*) FROM alerts WHERE (severity > 5 OR pid > 100) IS NULL' },
  { category: 'parentheses', ordered: true, sql: 'SELECT count(*) FROM logs WHERE (pid NOT IN (SELECT pid FROM alerts)) IS NULL' },
  { category: 'parentheses', ordered: true, sql: 'SELECT count(*) FROM alerts WHERE (NOT (severity > 5)) IS UNKNOWN' },
  { category: 'parentheses', ordered: true, sql: "SELECT time AT TIME ZONE ('Europe/' || 'Paris'), (ARRAY[pid, ppid])[2] FROM alerts ORDER BY time LIMIT 2" },
  { category: 'group-distinct', ordered: false, sql: 'SELECT count(*) FROM alerts GROUP BY DISTINCT ROLLUP (host_name), ROLLUP (host_name)' },
  { category: 'cte-scope', ordered: true, sql: 'SELECT (WITH logs AS (SELECT 1 AS x) SELECT count(*) FROM logs) AS a, (SELECT count(*) FROM logs) AS b' },
  { category: 'cte-scope', ordered: false, sql: 'SELECT count(*) FROM alerts UNION ALL (WITH alerts AS (SELECT 1 AS x) SELECT count(*) FROM alerts)' },
  { category: 'cte-scope', ordered: true, sql: 'WITH a AS (SELECT count(*) AS n FROM logs), logs AS (SELECT 5 AS n) SELECT (SELECT n FROM a), (SELECT n FROM logs)' },
  { category: 'limit-subquery', ordered: true, sql: 'SELECT host_name, count(*) FROM alerts GROUP BY 1 ORDER BY 1 OFFSET (SELECT count(*) FROM logs) / 10000' },
  { category: 'limit-subquery', ordered: true, sql: 'SELECT count(*) FROM alerts LIMIT (SELECT count(*) FROM alerts)' },
  { category: 'implicit-name', ordered: true, sql: 'SELECT pid::text FROM alerts ORDER BY pid OFFSET 600 LIMIT 5' },
  { category: 'implicit-name', ordered: true, sql: 'SELECT pid::text, count(*) FROM alerts GROUP BY pid ORDER BY pid LIMIT 5' },
  { category: 'collation', ordered: true, sql: 'SELECT host_name, max(CASE WHEN pid % 2 = 0 THEN \'B\' ELSE \'a\' END COLLATE pg_unicode_fast) FROM alerts GROUP BY 1 ORDER BY 1' },
  { category: 'constant-group', ordered: true, sql: "SELECT 'x' AS k, 7 AS j, host_name, count(*) FROM alerts GROUP BY k, j, host_name ORDER BY host_name" },
  { category: 'no-columns', ordered: true, sql: 'SELECT FROM alerts ORDER BY time LIMIT 2' },
  { category: 'no-columns', ordered: false, sql: 'SELECT FROM alerts GROUP BY host_name' },
]

/** A small seeded PRNG (mulberry32): the same seed gives the same queries on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function generateQueries(count: number, seed = 42): TestQuery[] {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const out: TestQuery[] = []
  for (let n = 0; n < count; n++) {
    const table = rnd() < 0.5 ? 'alerts' : 'logs'
    const params: unknown[] = []
    const p = (v: unknown) => {
      params.push(v)
      return `$${params.length}`
    }
    const predicates = [
      () => `host_name = ${rnd() < 0.5 ? `'${pick(HOSTS)}'` : p(pick(HOSTS))}`,
      () => `host_name IN ('${pick(HOSTS)}', '${pick(HOSTS)}')`,
      () => `cluster_name = '${pick(CLUSTERS)}'`,
      () => `host_name = ANY(${p([pick(HOSTS), pick(HOSTS)])})`,
      () => {
        const d = int(0, 5)
        return `time BETWEEN '${iso(d, int(0, 11))}' AND '${iso(d, int(12, 23))}'`
      },
      () => `time >= ${p(iso(int(0, 6), int(0, 23)))}`,
      () => `pid ${pick(['<', '>', '>=', '<>'])} ${int(1, 40000)}`,
      () => `process_name LIKE '%${pick(['sh', 'python', 'nginx', 'curl', 'mysql'])}%'`,
      () => `resource ILIKE '%${pick(['ETC', 'passwd', 'tmp', 'PROC'])}%'`,
      () => `operation ~ '^(${pick(['File', 'Process', 'Network'])}|Syscall)$'`,
      () => `namespace_name IS ${pick(['NULL', 'NOT NULL'])}`,
      () => `tags @> ARRAY['${pick(['pci', 'site:prod-eu', 'site:staging', 'site:prod-us'])}']`,
      () => (table === 'alerts' ? `severity ${pick(['>', '<=', '='])} ${int(1, 10)}` : `uid = ${pick([0, 1000])}`),
      () => (table === 'alerts' ? `action = '${pick(['Block', 'Audit'])}'` : `result = 'Passed'`),
    ]
    const where = Array.from({ length: int(0, 3) }, () => pick(predicates)()).join(' AND ')
    const whereSql = where ? ` WHERE ${where}` : ''
    const cols = ['host_name', 'cluster_name', 'namespace_name', 'operation', 'process_name', 'pid']
    const shape = rnd()
    if (shape < 0.3) {
      // Rows, ordered by a key then time (a total order), with LIMIT/OFFSET.
      const key = pick(['time', 'host_name', 'pid', 'namespace_name', 'process_name'])
      const dir = pick(['', ' DESC'])
      const nulls = pick(['', ' NULLS FIRST', ' NULLS LAST'])
      const order = key === 'time' ? `time${dir}` : `${key}${dir}${nulls}, time${dir}`
      const limit = rnd() < 0.8 ? ` LIMIT ${int(1, 60)}` : ''
      const offset = rnd() < 0.3 ? ` OFFSET ${int(0, 500)}` : ''
      out.push({ category: 'gen-sorted', ordered: true, sql: `SELECT time, ${pick(cols)}, ${pick(cols)} FROM ${table}${whereSql} ORDER BY ${order}${limit}${offset}`, params })
    } else if (shape < 0.45) {
      // Rows, no order: compared as a multiset; narrowed so results stay small.
      out.push({ category: 'gen-union', ordered: false, sql: `SELECT ${pick(cols)}, time FROM ${table} WHERE host_name = '${pick(HOSTS)}' AND ${pick(predicates)()}${where ? ` AND ${where}` : ''}`, params })
    } else if (shape < 0.85) {
      const g = pick(['host_name', 'cluster_name', 'namespace_name', 'operation', "date_trunc('day', time)", "date_bin('6 hours', time, TIMESTAMPTZ '2026-01-01')", ''])
      const simple = ['count(*)', 'count(pid)', 'sum(pid)', 'avg(pid)', 'min(time)', 'max(time)', 'min(process_name)', 'max(pid)', 'bool_and(pid > 1000)', 'avg(uid)', 'sum(host_pid)']
      const hard = ['count(DISTINCT process_name)', 'stddev(pid)', "string_agg(DISTINCT operation, ',' ORDER BY operation)", 'array_agg(DISTINCT cluster_name ORDER BY cluster_name)', 'percentile_cont(0.5) WITHIN GROUP (ORDER BY pid)', 'var_samp(uid)']
      const aggs = Array.from({ length: int(1, 3) }, () => (rnd() < 0.75 ? pick(simple) : pick(hard)))
      const having = g && rnd() < 0.3 ? ` HAVING count(*) > ${int(1, 500)}` : ''
      const order = g ? ` ORDER BY 1${pick(['', ' DESC'])} NULLS FIRST` : ''
      const limit = g && rnd() < 0.3 ? ` LIMIT ${int(1, 5)}` : ''
      const narrow = aggs.some((a) => hard.includes(a)) && !where ? ` WHERE host_name = '${pick(HOSTS)}'` : whereSql
      out.push({ category: aggs.some((a) => hard.includes(a)) ? 'gen-gather-agg' : 'gen-partial-agg', ordered: true, sql: `SELECT ${g ? `${g} AS g, ` : ''}${aggs.join(', ')} FROM ${table}${narrow}${g ? ' GROUP BY 1' : ''}${having}${order}${limit}`, params })
    } else if (shape < 0.92) {
      out.push({ category: 'gen-distinct', ordered: false, sql: `SELECT DISTINCT ${pick(cols)} FROM ${table}${whereSql}`, params })
    } else {
      const h = pick(HOSTS)
      out.push({
        category: 'gen-join',
        ordered: true,
        sql: `SELECT l.operation, count(*), count(DISTINCT a.policy_name) FROM alerts a JOIN logs l ON a.host_name = l.host_name AND a.pid = l.pid WHERE a.host_name = '${h}'${where ? ` AND ${where.replace(/\b(host_name|time|pid|cluster_name|namespace_name|operation|process_name|resource|tags|uid|result|severity|action)\b/g, (m) => (m === 'severity' || m === 'action' ? `a.${m}` : `l.${m}`))}` : ''} GROUP BY 1 ORDER BY 1`,
        params,
      })
    }
  }
  return out
}
