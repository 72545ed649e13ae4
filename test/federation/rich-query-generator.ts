/**
 * A second, richer generator for the differential test: expressions in every clause (CASE,
 * coalesce, casts, string, jsonb and array functions, time buckets in several zones), boolean
 * trees with NOT and OR, grouping sets, DISTINCT ON, set operations, windows, CTEs, LATERAL and
 * generate_series joins, WITH TIES, and subqueries. Every query has a total ORDER BY (time is
 * unique in the dataset) or is compared as a multiset; each parameter it binds appears in it.
 */
import { CLUSTERS, HOSTS, iso, prng, type TestQuery } from './query-generator.js'

const TAGS = ['pci', 'site:prod-eu', 'site:staging', 'site:prod-us']
const EDGES = ['edge-1', 'edge-2', 'edge-3', 'edge-4']
const SHARED_TEXT = ['host_name', 'cluster_name', 'namespace_name', 'operation', 'process_name', 'parent_process_name', 'resource', 'result', 'pod_name', 'container_name', 'type', 'source', 'cwd']
const SHARED_INT = ['pid', 'ppid', 'uid', 'host_pid']

export function generateRichQueries(count: number, seed = 7): TestQuery[] {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const chance = (p: number) => rnd() < p
  const out: TestQuery[] = []
  while (out.length < count) {
    const table = chance(0.5) ? 'alerts' : 'logs'
    const other = table === 'alerts' ? 'logs' : 'alerts'
    const params: unknown[] = []
    const p = (v: unknown) => `$${params.push(v)}`
    const intCols = table === 'alerts' ? [...SHARED_INT, 'severity'] : SHARED_INT
    const text = () => pick<() => string>([
      () => pick(SHARED_TEXT),
      () => `lower(${pick(SHARED_TEXT)})`,
      () => "coalesce(namespace_name, '-')",
      () => `substr(${pick(SHARED_TEXT)}, ${int(1, 4)}, ${int(1, 6)})`,
      () => `split_part(resource, '/', ${int(1, 3)})`,
      () => `event_data->>'${pick(['Seq', 'Syscall', 'Flags', 'Mode', 'Protocol'])}'`,
      () => `tags[${int(1, 2)}]`,
      () => `${pick(SHARED_TEXT)} || '-' || ${pick(intCols)}`,
      () => `CASE WHEN ${pick(intCols)} > ${int(1, 5000)} THEN 'hi' WHEN ${pick(intCols)} IS NULL THEN NULL ELSE 'lo' END`,
      () => `to_char(time, '${pick(['YYYY-MM-DD', 'HH24', 'Dy', 'IW', 'YYYY-MM-DD HH24:MI'])}')`,
      () => `upper(left(${pick(['host_name', 'operation', 'cluster_name'])}, 3))`,
      () => `nullif(${pick(SHARED_TEXT)}, '${pick(['File', 'Process', 'prod-eu', 'default'])}')`,
    ])()
    const num = () => pick<() => string>([
      () => pick(intCols),
      () => `${pick(intCols)} % ${int(2, 50)}`,
      () => `${pick(intCols)} + ${pick(intCols)}`,
      () => `abs(${pick(intCols)} - ${int(0, 30000)})`,
      () => `length(${pick(SHARED_TEXT)})`,
      () => `extract(${pick(['hour', 'dow', 'day', 'minute', 'epoch'])} FROM time)`,
      () => 'cardinality(tags)',
      () => `greatest(${pick(intCols)}, ${int(0, 3000)})`,
      () => `(${pick(intCols)} * ${int(1, 9)})::bigint`,
      () => `${pick(intCols)}::numeric / ${int(2, 9)}`,
      () => `width_bucket(${pick(intCols)}, 0, 40000, ${int(2, 10)})`,
    ])()
    const time = () => pick<() => string>([
      () => 'time',
      () => `date_trunc('${pick(['hour', 'day', 'minute', 'week', 'month'])}', time)`,
      () => `date_bin('${pick(['5 minutes', '2 hours', '90 minutes', '1 day'])}', time, TIMESTAMPTZ '2026-09-30 07:13')`,
      () => 'time::date',
      () => `time AT TIME ZONE '${pick(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])}'`,
      () => `time + interval '${int(1, 48)} hours'`,
    ])()
    const any = () => pick([text, num, time])()
    /** A predicate; `shared` keeps to the columns both tables have (for subqueries, so none correlates by accident). */
    const pred = (shared = false, depth = 0): string => {
      if (depth < 2 && chance(0.25)) {
        const s = `(${pred(shared, depth + 1)} ${pick(['AND', 'OR'])} ${pred(shared, depth + 1)})`
        return chance(0.2) ? `NOT ${s}` : s
      }
      const ints = shared ? SHARED_INT : intCols
      return pick<() => string>([
        () => `host_name = ${chance(0.5) ? `'${pick(HOSTS)}'` : p(pick(HOSTS))}`,
        () => `host_name ${chance(0.3) ? 'NOT ' : ''}IN (${Array.from({ length: int(1, 4) }, () => `'${pick(HOSTS)}'`).join(', ')})`,
        () => `host_name <> ALL (${p([pick(HOSTS), pick(HOSTS)])})`,
        () => `cluster_name ${pick(['=', '<>', '<', '>='])} '${pick([...CLUSTERS, 'prod'])}'`,
        () => `cluster_name IS DISTINCT FROM ${chance(0.5) ? 'NULL' : `'${pick(CLUSTERS)}'`}`,
        () => {
          const d = int(0, 5)
          return `time BETWEEN ${chance(0.5) ? 'SYMMETRIC ' : ''}'${iso(d, int(0, 23))}' AND '${iso(d + int(0, 1), int(0, 23))}'`
        },
        () => `time ${pick(['<', '>=', '>', '<='])} ${chance(0.5) ? p(iso(int(0, 6), int(0, 23), int(0, 59))) : `'${iso(int(0, 6), int(0, 23))}'`}`,
        () => `time >= '${iso(int(0, 5))}'::date + ${int(0, 3)}`,
        () => `time::date = '2026-10-0${int(1, 7)}'`,
        () => `date_trunc('day', time) = '${iso(int(0, 5))}'`,
        () => `time ${pick(['>', '<'])} TIMESTAMPTZ '${iso(int(0, 5), 12)}' - interval '${int(1, 30)} hours'`,
        () => `${pick(ints)} ${pick(['<', '>', '>=', '<>', '='])} ${chance(0.3) ? p(int(1, 40000)) : int(1, 40000)}`,
        () => `${pick(ints)} BETWEEN ${int(0, 1000)} AND ${int(1000, 40000)}`,
        () => `${pick(ints)} IS ${pick(['NULL', 'NOT NULL'])}`,
        () => `${pick(SHARED_TEXT)} ${pick(['LIKE', 'ILIKE', 'NOT LIKE'])} '${pick(['%sh', 'node-1%', '%etc%', '/usr/%', '%_a', 'Pro%', '%'])}'`,
        () => `${pick(SHARED_TEXT)} ${pick(['~', '~*', '!~'])} '${pick(['^/(etc|usr)', 'sh$', '^node-[12]', 'file', '[0-9]{3}'])}'`,
        () => `tags ${pick(['@>', '&&', '<@'])} ARRAY['${pick(TAGS)}']`,
        () => `'${pick(TAGS)}' = ANY(tags)`,
        () => `event_data ? '${pick(['Seq', 'Syscall', 'Flags'])}'`,
        () => `coalesce(namespace_name, 'host') = '${pick(['host', 'default', 'kube-system', 'wordpress-mysql'])}'`,
        () => (shared || table === 'logs' ? `result = '${pick(['Passed', 'Permission denied'])}'` : `action ${pick(['=', '<>'])} '${pick(['Block', 'Audit', 'Allow'])}'`),
        () => `edge_id = '${pick(EDGES)}'`,
        () => `(host_name, pid) ${pick(['>', '<'])} ('${pick(HOSTS)}', ${int(0, 30000)})`,
      ])()
    }
    const where = (shared = false) => (chance(0.8) ? ` WHERE ${Array.from({ length: int(1, 3) }, () => pred(shared)).join(' AND ')}` : '')
    const aggregate = () => pick<() => string>([
      () => 'count(*)', () => `count(${any()})`, () => `count(DISTINCT ${any()})`,
      () => `sum(${num()})`, () => `avg(${num()})`, () => `min(${any()})`, () => `max(${any()})`,
      () => `bool_or(${pred()})`, () => `every(${pred()})`, () => `count(*) FILTER (WHERE ${pred()})`,
      () => `sum(${num()}) FILTER (WHERE ${pred()})`, () => `stddev_pop(${pick(intCols)})`, () => `var_samp(${pick(intCols)})`,
      () => `string_agg(DISTINCT ${pick(['host_name', 'operation', 'cluster_name'])}, ',' ORDER BY 1)`,
      () => `array_agg(${pick(['host_name', 'operation'])} ORDER BY time)`,
      () => `percentile_disc(${pick(['0.1', '0.5', '0.99'])}) WITHIN GROUP (ORDER BY ${pick(intCols)})`,
      () => `mode() WITHIN GROUP (ORDER BY ${pick(['operation', 'host_name'])})`,
      () => `bit_or(${pick(intCols)})`, () => 'max(tags)', () => `min(time) FILTER (WHERE ${pred()})`,
      () => `count(DISTINCT (host_name, ${pick(intCols)}))`,
      () => `sum(${pick(intCols)}::bigint * ${int(1000, 4000000)}00000)`,
      () => `max(${num()}) - min(${num()})`,
      () => `avg(${pick(intCols)})::numeric(20,3)`,
    ])()
    const shapes: [number, () => Omit<TestQuery, 'params'>][] = [
      [22, () => {
        const keys = Array.from({ length: int(0, 2) }, () => `${any()}${pick(['', ' DESC'])}${pick(['', ' NULLS FIRST', ' NULLS LAST'])}`)
        const limit = chance(0.8) ? ` LIMIT ${chance(0.3) ? p(int(0, 80)) : int(0, 80)}` : ''
        const offset = chance(0.3) ? ` OFFSET ${int(0, 300)}` : ''
        const cols = Array.from({ length: int(1, 3) }, any).join(', ')
        return { category: 'rich-sorted', ordered: true, sql: `SELECT time, ${cols} FROM ${table}${where()} ORDER BY ${[...keys, `${table}.time${pick(['', ' DESC'])}`].join(', ')}${limit}${offset}` }
      }],
      [8, () => ({ category: 'rich-rows', ordered: false, sql: `SELECT ${Array.from({ length: int(1, 3) }, any).join(', ')} FROM ${table} WHERE host_name = '${pick(HOSTS)}' AND ${pred()}` })],
      [30, () => {
        const keys = Array.from({ length: int(0, 3) }, any)
        const sets = keys.length >= 2 && chance(0.2) ? pick(['ROLLUP', 'CUBE', 'GROUPING SETS']) : ''
        const aggs = Array.from({ length: int(1, 3) }, aggregate).join(', ')
        const having = keys.length && chance(0.3) ? ` HAVING ${pick([`count(*) > ${int(1, 300)}`, `max(pid) < ${int(1000, 40000)}`, `bool_or(${pred()})`, 'sum(uid) IS NOT NULL'])}` : ''
        const group = sets ? ` GROUP BY ${sets} (${keys.join(', ')})` : keys.length ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : ''
        const order = keys.length ? ` ORDER BY ${keys.map((_, i) => `${i + 1}${pick(['', ' DESC'])} NULLS ${pick(['FIRST', 'LAST'])}`).join(', ')}` : ''
        // Rows of grouping sets can tie on every key (NULL for a rolled-up key): compared as a multiset, without LIMIT.
        const limit = keys.length && !sets && chance(0.3) ? ` LIMIT ${int(1, 10)}${chance(0.3) ? ` OFFSET ${int(0, 5)}` : ''}` : ''
        return { category: sets ? 'rich-grouping-sets' : 'rich-aggregate', ordered: !sets, sql: `SELECT ${[...keys, aggs].join(', ')} FROM ${table}${where()}${group}${having}${order}${limit}` }
      }],
      // Grouping sets with GROUPING(), sublists, the empty set and GROUP BY DISTINCT (each row named by its GROUPING bits: a total order).
      [5, () => {
        const [a, b] = [pick(['host_name', 'operation', 'namespace_name']), pick(['cluster_name', "date_trunc('day', time)", 'uid'])]
        const sets = pick([`ROLLUP (${a}, ${b})`, `CUBE (${a}, ${b})`, `GROUPING SETS ((${a}, ${b}), (${a}), ())`, `${a}, ROLLUP (${b})`, `GROUPING SETS (${a}, ${b}), ROLLUP (${a})`])
        return { category: 'rich-grouping-sets', ordered: true, sql: `SELECT ${a}, ${b}, GROUPING(${a}, ${b}) AS gb, count(*), sum(pid), max(time), avg(uid) FROM ${table}${where()} GROUP BY ${chance(0.3) ? 'DISTINCT ' : ''}${sets}${chance(0.3) ? ` HAVING count(*) > ${int(1, 50)}` : ''} ORDER BY gb, 1 NULLS FIRST, 2 NULLS FIRST, 4` }
      }],
      [8, () => {
        const c = any()
        return { category: 'rich-distinct-on', ordered: true, sql: `SELECT DISTINCT ON (${c}) ${c}, time, host_name FROM ${table}${where()} ORDER BY ${c}, ${table}.time${pick(['', ' DESC'])}${chance(0.5) ? ` LIMIT ${int(1, 30)}` : ''}` }
      }],
      // Plain DISTINCT (Grafana's and Superset's lists of values): of columns it groups on the edges.
      [3, () => {
        const cols = [...new Set(Array.from({ length: int(1, 3) }, () => pick(['host_name', 'operation', 'cluster_name', 'namespace_name', 'ppid', 'uid', 'edge_id', 'tags', pick(SHARED_TEXT)])))]
        const limit = chance(0.3) ? ` LIMIT ${int(0, 30)}` : ''
        return { category: 'rich-distinct', ordered: !!limit, sql: `SELECT DISTINCT ${cols.join(', ')} FROM ${table}${where()}${limit ? ` ORDER BY ${cols.map((c, i) => `${i + 1}${pick(['', ' DESC'])}${pick(['', ' NULLS FIRST'])}`).join(', ')}${limit}` : ''}` }
      }],
      // DISTINCT ON plain columns, whose groups span the edges: merged, each group's first row kept.
      [4, () => {
        const keys = Array.from({ length: int(1, 2) }, () => pick(['operation', 'cluster_name', 'namespace_name', 'ppid', 'uid', 'process_name', 'edge_id', 'host_name']))
        const on = [...new Set(keys)]
        const dir = () => `${pick(['', ' DESC', ' ASC'])}${pick(['', ' NULLS FIRST', ' NULLS LAST'])}`
        const order = [...on.map((k) => `${k}${dir()}`), `time${dir()}`].join(', ')
        const limit = chance(0.5) ? ` LIMIT ${int(0, 20)}${chance(0.3) ? ` OFFSET ${int(1, 5)}` : ''}` : ''
        return { category: 'rich-distinct-on', ordered: true, sql: `SELECT DISTINCT ON (${[...on].reverse().join(', ')}) ${on.join(', ')}, time, pid FROM ${table}${where()} ORDER BY ${order}${limit}` }
      }],
      [7, () => {
        const c = pick(['host_name', 'operation', 'process_name', 'pid', 'cluster_name'])
        return { category: 'rich-set-operation', ordered: false, sql: `SELECT ${c} FROM alerts${where(true)} ${pick(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT'])} SELECT ${c} FROM logs${where(true)}` }
      }],
      [8, () => {
        const g = pick(['host_name', 'operation', 'cluster_name', "date_trunc('day', time)"])
        const w = pick(['rank() OVER (ORDER BY n DESC, g)', 'sum(n) OVER (ORDER BY g)', 'lag(n) OVER (ORDER BY g)', 'n * 100.0 / sum(n) OVER ()', 'row_number() OVER (ORDER BY n, g)', 'first_value(g) OVER (ORDER BY n DESC, g)', 'ntile(3) OVER (ORDER BY g)'])
        return { category: 'rich-window', ordered: true, sql: `SELECT g, n, ${w} FROM (SELECT ${g} AS g, count(*) AS n FROM ${table}${where()} GROUP BY 1) s ORDER BY g NULLS FIRST` }
      }],
      // Windows over the groups of an aggregate (computed with the partial aggregates' combine).
      [6, () => {
        const k = pick(['host_name', 'operation', 'namespace_name', "date_trunc('day', time)"])
        const w = pick([
          'count(*) * 100.0 / sum(count(*)) OVER ()', 'rank() OVER (ORDER BY count(*) DESC, k)', 'sum(sum(pid)) OVER (ORDER BY k)', 'count(*) OVER ()',
          'lag(max(time)) OVER (ORDER BY k, c)', 'row_number() OVER (PARTITION BY c ORDER BY count(*) DESC, k)', 'avg(avg(pid)) OVER (PARTITION BY c)',
          'max(count(*)) OVER (ORDER BY k, c ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)', 'dense_rank() OVER (PARTITION BY c ORDER BY min(pid))',
        ])
        // A window's PARTITION BY and ORDER BY read input columns, not output names; (k, c) orders the groups fully.
        const win = w.replace(/\bk\b/g, `(${k})`).replace(/\bc\b/g, 'cluster_name')
        const order = pick(['k NULLS FIRST, c', `w DESC NULLS LAST, k NULLS FIRST, c`, `${win} DESC NULLS LAST, k NULLS FIRST, c`])
        return { category: 'rich-window-groups', ordered: true, sql: `SELECT ${k} AS k, cluster_name AS c, count(*), ${win} AS w FROM ${table}${where()} GROUP BY 1, 2${chance(0.3) ? ` HAVING count(*) > ${int(1, 100)}` : ''} ORDER BY ${order}${chance(0.4) ? ` LIMIT ${int(1, 10)}` : ''}` }
      }],
      [4, () => ({ category: 'rich-window', ordered: true, sql: `SELECT host_name, time, pid, count(*) OVER (PARTITION BY host_name), sum(pid) OVER (PARTITION BY host_name ORDER BY time ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), lag(pid) OVER (ORDER BY time) FROM ${table} WHERE time < '${iso(0, int(1, 3))}'${chance(0.5) ? ` AND ${pred()}` : ''} ORDER BY time` })],
      [7, () => {
        const inner = pick<() => string>([
          () => `SELECT host_name, count(*) AS n, max(time) AS t FROM ${table}${where()} GROUP BY host_name`,
          () => `SELECT host_name, pid, time FROM ${table}${where()} ORDER BY time DESC LIMIT ${int(1, 100)}`,
          () => `SELECT DISTINCT host_name, operation FROM ${table}${where()}`,
        ])()
        return { category: 'rich-cte', ordered: true, sql: `WITH s AS (${inner}) SELECT count(*), count(DISTINCT host_name), max(host_name) FROM s` }
      }],
      [5, () => {
        const on = (m: string) => (m === 'severity' || m === 'action' ? `a.${m}` : `l.${m}`)
        const w = where(true).replace(/\b(host_name|time|pid|ppid|uid|host_pid|cluster_name|namespace_name|operation|process_name|parent_process_name|resource|tags|result|pod_name|container_name|type|source|cwd|event_data|edge_id)\b/g, on)
        const host = `a.host_name = '${pick(HOSTS)}'`
        return { category: 'rich-join', ordered: true, sql: `SELECT a.operation, count(*), min(l.time), count(DISTINCT l.process_name) FROM alerts a JOIN logs l ON a.host_name = l.host_name AND a.pid = l.pid${w ? `${w} AND ${host}` : ` WHERE ${host}`} GROUP BY 1 ORDER BY 1 NULLS FIRST` }
      }],
      [3, () => {
        const c = pick(SHARED_INT)
        return { category: 'rich-in-subquery', ordered: true, sql: `SELECT count(*), sum(${c}) FROM ${table} WHERE ${c} ${pick(['IN', 'NOT IN'])} (SELECT ${c} FROM ${other}${where(true)})${chance(0.5) ? ` AND ${pred()}` : ''}` }
      }],
      [2, () => ({ category: 'rich-correlated', ordered: true, sql: `SELECT h.h, (SELECT count(*) FROM ${table} t WHERE t.host_name = h.h${chance(0.5) ? ` AND ${pred()}` : ''}) FROM (VALUES ${HOSTS.slice(0, int(1, 8)).map((x) => `('${x}')`).join(', ')}, ('nope')) h(h) ORDER BY 1` })],
      [2, () => {
        const step = pick(['6 hours', '1 day', '12 hours'])
        return { category: 'rich-series-join', ordered: true, sql: `SELECT g.d, count(t.time) FROM generate_series(TIMESTAMPTZ '${iso(0)}', '${iso(int(1, 6))}', interval '${step}') g(d) LEFT JOIN ${table} t ON t.time >= g.d AND t.time < g.d + interval '${step}'${chance(0.5) ? ` AND t.host_name = '${pick(HOSTS)}'` : ''} GROUP BY 1 ORDER BY 1` }
      }],
      [2, () => ({ category: 'rich-lateral', ordered: true, sql: `SELECT x.host_name, l.t, l.n FROM (SELECT DISTINCT host_name FROM ${table}) x CROSS JOIN LATERAL (SELECT max(time) AS t, count(*) AS n FROM ${table} y WHERE y.host_name = x.host_name${chance(0.5) ? ` AND ${pred(true).replace(/\bhost_name\b/g, 'y.host_name')}` : ''}) l ORDER BY 1` })],
      // WITH TIES returns every row tied with the last: the set is fixed, its order is not.
      [2, () => ({ category: 'rich-with-ties', ordered: false, sql: `SELECT ${any()}, time FROM ${table}${where()} ORDER BY ${pick(['pid', 'host_name', 'operation'])}${pick(['', ' DESC'])} FETCH FIRST ${int(1, 20)} ROWS WITH TIES` })],
      [2, () => ({ category: 'rich-json', ordered: true, sql: `SELECT host_name, jsonb_agg(DISTINCT operation ORDER BY operation), json_object_agg(operation, 1 ORDER BY operation)::jsonb FROM ${table}${where()} GROUP BY 1 ORDER BY 1` })],
      [2, () => ({ category: 'rich-text', ordered: true, sql: `SELECT count(*), min(time::text), max(time::text), max(event_data::text) FROM ${table}${where()}` })],
      [2, () => ({ category: 'rich-scalar-subquery', ordered: true, sql: `SELECT host_name, count(*) FROM ${table} WHERE time > (SELECT max(time) - interval '${int(1, 30)} hours' FROM ${other}${where(true)}) GROUP BY 1 ORDER BY 1` })],
      // Aggregated derived tables of a statement that is gathered: nested questions, LOD joins, arms.
      [4, () => {
        const g = pick(['host_name', 'operation', 'cluster_name', "date_trunc('day', time)", 'pid % 7', 'namespace_name'])
        const inner = (t: string) => `SELECT ${g} AS g, count(*) AS n, max(time) AS t, sum(pid) AS s FROM ${t}${where(true)} GROUP BY 1`
        const shape = pick<() => { sql: string; ordered: boolean }>([
          () => ({ ordered: true, sql: `SELECT count(*), ${pick(['avg(n)', 'max(n)', 'sum(s)', 'stddev(n)', 'percentile_cont(0.5) WITHIN GROUP (ORDER BY n)', 'string_agg(g::text, \',\' ORDER BY g::text)'])} FROM (${inner(table)}) q WHERE n > ${int(0, 50)}` }),
          () => ({ ordered: true, sql: `SELECT t0.${pick(['host_name', 'operation'])}, count(*) FROM ${table} t0 JOIN (SELECT host_name, max(time) AS mx FROM ${table}${where(true)} GROUP BY host_name) t1 ON t0.host_name = t1.host_name WHERE t0.time > t1.mx - interval '${int(1, 48)} hours' GROUP BY 1 ORDER BY 1 NULLS FIRST` }),
          () => ({ ordered: true, sql: `SELECT ${pick(["'alerts'", 'NULL', '1'])} AS k, count(*), max(time) FROM alerts${where(true)} ${pick(['UNION ALL', 'UNION'])} SELECT ${pick(["'logs'", 'NULL', '2'])}, count(*), max(time) FROM logs${where(true)} ORDER BY 2, 1` }),
          () => ({ ordered: true, sql: `WITH a AS (${inner(table)}), b AS (${inner(other)}) SELECT a.g, a.n, b.n FROM a FULL JOIN b USING (g) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST` }),
          () => ({ ordered: true, sql: `SELECT x.g, x.n, rank() OVER (ORDER BY x.n DESC, x.g) FROM (${inner(table)} ORDER BY n DESC, g LIMIT ${int(1, 5)}) x, (SELECT count(*) AS c FROM ${other}) y WHERE y.c > 0 ORDER BY 1` }),
        ])()
        return { category: 'rich-derived-apart', ...shape }
      }],
      // Subqueries with one value for the statement (init plans), wherever a value goes.
      [4, () => {
        const c = pick(SHARED_TEXT)
        const n = pick(SHARED_INT)
        const sub = (s: string, tail = '') => `(SELECT ${s} FROM ${other}${where(true)}${tail})`
        const shape = pick<() => { sql: string; ordered: boolean }>([
          () => ({ ordered: true, sql: `SELECT ${c}, count(*) FROM ${table} WHERE ${c} ${pick(['IN', 'NOT IN', '= ANY', '<> ALL', '< ANY', '>= ALL'])} ${sub(c)} GROUP BY 1 ORDER BY 1 NULLS FIRST` }),
          () => ({ ordered: true, sql: `SELECT count(*), max(time) FROM ${table} WHERE ${n} ${pick(['>', '<=', '='])} ${pick(['ANY', 'ALL'])} ${sub(`${n}${chance(0.3) ? ' + 0' : ''}`)}${chance(0.5) ? ` AND ${pred()}` : ''}` }),
          () => ({ ordered: true, sql: `SELECT host_name, count(*), ${sub(pick(['count(*)', 'max(time)', `min(${n})`, `sum(${n})`, `avg(${n})`, `string_agg(DISTINCT ${c}, ',' ORDER BY ${c})`]))} AS v FROM ${table}${where()} GROUP BY 1 ORDER BY 1` }),
          () => ({ ordered: true, sql: `SELECT time, host_name, ${n} FROM ${table} WHERE time ${pick(['>=', '<'])} ${sub(pick(['max(time)', 'min(time)', 'percentile_disc(0.5) WITHIN GROUP (ORDER BY time)']))} - interval '${int(1, 40)} hours'${chance(0.5) ? ` AND ${pred()}` : ''} ORDER BY time DESC LIMIT ${int(1, 30)}` }),
          () => ({ ordered: true, sql: `SELECT time, ${c} FROM ${table}${where()} ORDER BY time LIMIT ${sub(`count(*) % ${int(3, 20)}`)}` }),
          () => ({ ordered: false, sql: `SELECT ${c}, ${n} FROM ${table} WHERE ${n} = ${sub(n, ` ORDER BY time DESC LIMIT ${pick(['1', '2'])}`)}` }),
          () => ({ ordered: true, sql: `SELECT host_name, count(*) FROM ${table} WHERE ${c} = ANY (ARRAY${sub(`DISTINCT ${c}`)}) GROUP BY 1 ORDER BY 1` }),
          () => ({ ordered: true, sql: `SELECT ARRAY${sub(c, ` ORDER BY time DESC LIMIT ${int(0, 5)}`)} AS a, (SELECT count(*) FROM ${table} WHERE pid > ${p(int(0, 30000))}) AS b` }),
          () => ({ ordered: true, sql: `SELECT count(*) FROM ${table} t WHERE ${c} IN (SELECT ${c} FROM ${other} WHERE ${n} IN (SELECT ${n} FROM ${table}${where(true)}))` }),
        ])()
        return { category: 'rich-init-plan', ...shape }
      }],
      [2, () => ({ category: 'rich-star', ordered: true, sql: `SELECT * FROM ${table}${where()} ORDER BY time DESC LIMIT ${int(0, 20)}` })],
      [2, () => ({ category: 'rich-edges', ordered: true, sql: `SELECT edge_id, count(*), min(time) FROM ${table}${where()} GROUP BY ROLLUP (edge_id) ORDER BY 1 NULLS LAST` })],
      [2, () => ({ category: 'rich-edges', ordered: true, sql: `SELECT e.edge_id, count(t.*) FROM fedgres.edges e LEFT JOIN ${table} t USING (edge_id) GROUP BY 1 ORDER BY 1` })],
    ]
    // A subquery in FROM, as BI tools wrap a table (pulled up into the statement when it can be, pull-up.ts).
    const derived = (): { sql: string; key: string } => {
      if (chance(0.3)) return { sql: `SELECT * FROM ${table}${where()}`, key: pick(['host_name', 'operation', 'pid', 'cluster_name']) }
      const extra = Array.from({ length: int(1, 3) }, (_, i) => `${any()} AS c${i}`)
      return { sql: `SELECT ${[...extra, 'time', 'host_name', 'pid'].join(', ')} FROM ${table}${where()}`, key: pick(['c0', 'host_name', 'pid']) }
    }
    shapes.push(
      [8, () => {
        const d = derived()
        const limit = chance(0.4) ? ` LIMIT ${int(1, 8)}` : ''
        return { category: 'rich-derived', ordered: true, sql: `SELECT ${d.key}, count(*), max(time), sum(pid) FROM (${d.sql}) AS virtual_table${chance(0.4) ? ` WHERE pid > ${int(0, 30000)}` : ''} GROUP BY ${d.key} ORDER BY 1 NULLS FIRST${limit}` }
      }],
      [5, () => ({ category: 'rich-derived', ordered: true, sql: `SELECT s.* FROM (${derived().sql}) s${chance(0.5) ? ` WHERE host_name <> '${pick(HOSTS)}'` : ''} ORDER BY time${pick(['', ' DESC'])} LIMIT ${int(0, 40)}` })],
      [4, () => ({ category: 'rich-derived', ordered: true, sql: `SELECT count(*), min(time), count(DISTINCT host_name) FROM (${derived().sql}) s WHERE ${pred(true)}` })],
      [4, () => {
        // Power BI's folded steps: rows, then the aggregate, then the null filter and row cap.
        const d = derived()
        return { category: 'rich-derived-nested', ordered: false, sql: `SELECT "_"."k", "_"."a0" FROM (SELECT "rows"."${d.key}" AS "k", count(1) AS "a0" FROM (${d.sql}) "rows" GROUP BY "${d.key}") "_" WHERE NOT "_"."a0" IS NULL LIMIT 1000001` }
      }],
      [3, () => ({ category: 'rich-derived', ordered: true, sql: `SELECT x, count(*), max(y) FROM (SELECT host_name, pid, time FROM ${table}${where()}) s(x, y) WHERE y > ${int(0, 20000)} GROUP BY x ORDER BY x` })],
      // The groups of an aggregate subquery, filtered, ordered and capped (one grouped statement once merged).
      [5, () => {
        const having = chance(0.3) ? ` HAVING count(*) > ${int(1, 50)}` : ''
        const outer = pick([`n > ${int(1, 400)}`, 'd IS NOT NULL', `s > ${int(1000, 900000)}`, `t < '${iso(int(0, 6), int(0, 23))}'`, 'NOT n IS NULL'])
        return { category: 'rich-derived-groups', ordered: true, sql: `SELECT d, n, s, t FROM (SELECT ${any()} AS d, count(*) AS n, sum(pid) AS s, max(time) AS t FROM ${table}${where()} GROUP BY ${pick(['1', 'd'])}${having}) AS g WHERE ${outer} ORDER BY n DESC, d NULLS FIRST${chance(0.5) ? ` LIMIT ${int(1, 12)}` : ''}` }
      }],
      // A WITH query read once in FROM (inlined, inline-cte.ts), directly or under Superset's virtual table.
      [4, () => {
        const d = derived()
        const use = chance(0.5) ? 'recent' : '(SELECT * FROM recent) AS virtual_table'
        return { category: 'rich-derived-cte', ordered: true, sql: `WITH recent AS ${pick(['', 'NOT MATERIALIZED ', 'MATERIALIZED '])}(${d.sql}) SELECT ${d.key}, count(*), max(time) FROM ${use} GROUP BY 1 ORDER BY 1 NULLS FIRST` }
      }],
      // GROUP BY a name that is an output's, not a column of the subquery.
      [2, () => ({ category: 'rich-derived', ordered: true, sql: `SELECT lower(c0) AS host_name, count(*) FROM (SELECT ${pick(['host_name', 'operation', 'cluster_name'])} AS c0 FROM ${table}${where()}) s GROUP BY host_name ORDER BY 1 NULLS FIRST` })],
    )
    let roll = rnd() * shapes.reduce((s, [w]) => s + w, 0)
    const [, make] = shapes.find(([w]) => (roll -= w) < 0) ?? shapes[0]!
    const q = make()
    // A parameter drawn by a branch the query left out would make Bind fail on both sides: draw again.
    const used = new Set([...q.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))
    if (used.size === params.length) out.push({ ...q, params })
  }
  return out
}
