/**
 * The differential suite: every query runs through the gateway (4 edges, 104,000 events split by
 * host) and on one native PostgreSQL 18.4 holding the same rows; the answers must be identical —
 * column names and types, and every value as PostgreSQL writes it: in order where ORDER BY fixes
 * the order, as a multiset otherwise.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { runPsql } from '../clients/psql-client.js'
import { startOracleFederation, type OracleFederation } from '../helpers/oracle-federation.js'
import { AGGREGATES } from '../../gateway/plan/partial-aggregate.js'
import { FIXED, generateQueries, type TestQuery } from './query-generator.js'
import { generateRichQueries } from './rich-query-generator.js'

/** SETs and the queries whose answers they change, run in this order (see the settings test). */
const SESSION_STEPS = [
  "SET TimeZone = 'America/New_York'",
  'SELECT date_trunc(\'day\', time) AS d, count(*) FROM logs GROUP BY 1 ORDER BY 1',
  'SELECT time::date, count(DISTINCT host_name) FROM logs GROUP BY 1 ORDER BY 1',
  "SELECT to_char(time, 'YYYY-MM-DD HH24'), count(*) FROM alerts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
  "SELECT count(*) FROM alerts WHERE time > '2026-10-03 00:00'",
  'SELECT extract(hour FROM time) AS h, count(*) FROM alerts GROUP BY 1 ORDER BY 1',
  'SELECT time, host_name FROM alerts ORDER BY time DESC LIMIT 5',
  "SET TimeZone = 'Asia/Kolkata'",
  "SELECT date_trunc('day', time) AS d, count(*) FROM logs WHERE host_name = 'node-1a' GROUP BY 1 ORDER BY 1",
  "SET DateStyle = 'SQL, DMY'",
  "SELECT count(*) FROM alerts WHERE time::date = '03/10/2026'",
  "SELECT count(*), min(time) FROM alerts WHERE time < '03/10/2026 05:00'",
  'SELECT time::date, count(*) FROM alerts GROUP BY 1 ORDER BY 1',
  // Text the edges make of dates follows the session's style; the values they ship read back exactly.
  "SELECT count(*) FROM alerts WHERE time::text LIKE '03/10/2026%'",
  'SELECT min(time::text), max(time::date::text), min(time), count(*) FROM logs',
  'SELECT time::date::text AS d, count(*), max(time) FROM alerts GROUP BY 1 ORDER BY 1',
  'SELECT host_name, time FROM alerts WHERE (host_name, time) IN (SELECT host_name, max(time) FROM alerts GROUP BY 1) ORDER BY 1',
  "SET DateStyle = 'German'",
  "SELECT date_trunc('day', time)::text, array_agg(time ORDER BY time) FILTER (WHERE pid = 1)::text, count(*) FROM alerts GROUP BY 1 ORDER BY 1",
  "SET DateStyle = 'Postgres, MDY'",
  "SELECT host_name, min(time), count(*) FROM alerts WHERE time::text LIKE '%Oct 03%2026%' GROUP BY 1 ORDER BY 1",
  "SET DateStyle = 'SQL, DMY'",
  "SET IntervalStyle = 'sql_standard'",
  "SELECT host_name, avg(time - TIMESTAMPTZ '2026-10-01') FROM alerts GROUP BY 1 ORDER BY 1",
  // Under sql_standard the leading minus applies to every field: -26 hours, not -22 (pruning).
  "SELECT count(*) FROM alerts WHERE time < '2026-10-01 01:56:00+00'::timestamptz - interval '-1 day 2 hours'",
  "SET IntervalStyle = 'iso_8601'",
  'SELECT host_name, max(time) - min(time) FROM alerts GROUP BY 1 ORDER BY 1',
  "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY time - TIMESTAMPTZ '2026-10-01') FROM alerts",
  // set_config in a statement over the events: evaluated by the gateway, and the session's from then on.
  "SELECT set_config('TimeZone', 'Asia/Kathmandu', false) FROM alerts LIMIT 1",
  "SELECT date_trunc('day', time) AS d, count(*) FROM alerts GROUP BY 1 ORDER BY 1",
  // Text the edges make in an aggregate follows the session's float digits and bytea output.
  'SET extra_float_digits = 0',
  "SELECT count(*), sum(pid) FROM alerts WHERE (pid / 7.0::float8)::text LIKE '%.142857142857143'",
  // ... while floats sent to the gateway's engine keep every digit (two keys 1e-16 apart stay two groups).
  'SELECT 1 + uid * 1e-18::float8 AS k, count(*) FROM logs GROUP BY 1 ORDER BY 2, 1',
  'SET extra_float_digits = -15',
  'SELECT avg(pid::float8), count(*) FROM logs',
  'SELECT (pid % 1000)::float8 / 7 AS k, count(*) FROM logs WHERE pid < 2000 GROUP BY 1 ORDER BY 1',
  'SET extra_float_digits = 0',
  "SET bytea_output = 'escape'",
  "SELECT host_name, count(*) FROM alerts WHERE convert_to(host_name, 'UTF8')::text LIKE 'node%' GROUP BY 1 ORDER BY 1",
  'RESET extra_float_digits',
  'RESET bytea_output',
  // now() is the transaction's start, statement_timestamp() the statement's.
  'BEGIN',
  'SELECT count(*) FROM alerts WHERE now() = statement_timestamp()',
  // CURRENT_TIMESTAMP(p) and its kin too, rounded: the transaction's start, not each edge's.
  'SELECT pg_sleep(0.2)',
  'SELECT count(*) FROM alerts WHERE current_timestamp(3) = now()::timestamptz(3) AND localtimestamp(0) = now()::timestamp(0) AND current_time(1) = now()::timetz(1) AND localtime(2) = now()::time(2)',
  'SELECT host_name, bool_and(current_timestamp(0) = now()::timestamptz(0)) FROM alerts GROUP BY 1 ORDER BY 1',
  'SELECT current_timestamp(2) = now()::timestamptz(2) AS same, localtime(0) = now()::time(0) AS same_time',
  'SELECT count(*) FROM alerts WHERE transaction_timestamp() < statement_timestamp() AND now() = CURRENT_TIMESTAMP',
  'COMMIT',
  'SELECT count(*) FROM alerts WHERE now() = statement_timestamp()',
]

/** COPY TO STDOUT statements whose bytes must equal PostgreSQL's (each orders its rows). */
const COPY_STATEMENTS = [
  "COPY (SELECT time, host_name, pid, tags, event_data FROM logs WHERE host_name = 'node-1a' ORDER BY time LIMIT 500) TO STDOUT",
  'COPY (SELECT time, host_name, namespace_name, tags, event_data FROM alerts ORDER BY time DESC LIMIT 500) TO STDOUT WITH (FORMAT csv, HEADER)',
  "COPY (SELECT host_name, count(*) FROM logs GROUP BY 1 ORDER BY 1) TO STDOUT WITH (FORMAT csv, DELIMITER ';', FORCE_QUOTE *)",
  "COPY (SELECT namespace_name, resource FROM logs WHERE host_name = 'node-2b' ORDER BY time LIMIT 300) TO STDOUT WITH (FORMAT csv, NULL 'NULL', QUOTE '''', FORCE_QUOTE (resource))",
  "COPY (SELECT host_name, host_name, pid AS host_name FROM alerts ORDER BY time LIMIT 30) TO STDOUT (FORMAT csv, FORCE_QUOTE (host_name))",
  "COPY (SELECT namespace_name, resource, E'a\\tb\\\\c\\nd' AS odd FROM logs WHERE host_name = 'node-2b' ORDER BY time LIMIT 30) TO STDOUT WITH (NULL '')",
  "COPY (SELECT namespace_name, E'a,b\"c' AS odd, '' AS empty FROM logs WHERE host_name = 'node-3a' ORDER BY time LIMIT 30) TO STDOUT WITH (FORMAT csv, ESCAPE '\\')",
  "COPY (SELECT time, pid, host_name, severity, tags FROM alerts WHERE host_name = 'node-4a' ORDER BY time LIMIT 300) TO STDOUT WITH (FORMAT binary)",
  'COPY (SELECT count(*), sum(pid), avg(pid) FROM logs) TO STDOUT',
]

/** Aggregates of floats: compared to a relative 1e-11 (the float test). */
const FLOAT_QUERIES = [
  'SELECT sum(pid * 0.1::float8), avg(pid * 0.1::float8), sum(pid * 0.1::float4) FROM logs',
  'SELECT stddev(pid::float8), variance(uid::float8), corr(pid, uid), covar_pop(pid, uid), regr_slope(pid, uid) FROM logs',
  'SELECT host_name, sum(pid * 0.37::float8), avg(severity::float8) FROM alerts GROUP BY 1 ORDER BY 1',
]

/** Every value as the text PostgreSQL sent: nothing is parsed, so nothing is rounded. */
const raw = { getTypeParser: () => (v: string) => v }

interface Answer {
  readonly fields?: string
  readonly rows?: string[]
  readonly error?: string
  readonly message?: string
}

async function answer(c: pg.Client, q: TestQuery): Promise<Answer> {
  try {
    const r = await c.query({ text: q.sql, values: q.params, rowMode: 'array', types: raw })
    const rows = (r.rows as unknown[][]).map((row) => JSON.stringify(row))
    return { fields: JSON.stringify(r.fields.map((f) => [f.name, f.dataTypeID])), rows: q.ordered ? rows : rows.sort() }
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e), message: (e as Error).message }
  }
}

function diff(q: TestQuery, got: Answer, want: Answer): string | undefined {
  if (want.error || got.error) return got.error === want.error ? undefined : `error: gateway ${got.error ?? 'none'} ${got.message ?? ''}, oracle ${want.error ?? 'none'} ${want.message ?? ''}`
  if (got.fields !== want.fields) return `columns: gateway ${got.fields}, oracle ${want.fields}`
  if (got.rows!.length !== want.rows!.length) return `rows: gateway ${got.rows!.length}, oracle ${want.rows!.length}`
  const i = got.rows!.findIndex((r, k) => r !== want.rows![k])
  return i < 0 ? undefined : `row ${i}${q.ordered ? '' : ' (sorted)'}: gateway ${got.rows![i]!.slice(0, 300)}, oracle ${want.rows![i]!.slice(0, 300)}`
}

describe('federated answers equal one central PostgreSQL', { timeout: 900_000 }, () => {
  let fed: OracleFederation
  let gw: pg.Client
  let oracle: pg.Client
  before(async () => {
    fed = await startOracleFederation(4, 26_000)
    gw = new pg.Client({ host: '127.0.0.1', port: fed.gateway.port, user: fed.gateway.user, password: fed.gateway.password, database: 'fedgres', application_name: 'fedgres-oracle-test' })
    oracle = new pg.Client({ host: fed.oracle.host, port: fed.oracle.port, user: fed.oracle.user, password: fed.oracle.password, database: fed.oracle.database })
    await Promise.all([gw.connect(), oracle.connect()])
    // The oracle has no gateway view: fedgres.edges there is a table of the same shape, filled here.
    await oracle.query('INSERT INTO fedgres.edges (edge_id) SELECT unnest($1::text[])', [fed.edges.map((e) => e.id)])
  })
  after(async () => {
    await gw?.end().catch(() => {})
    await oracle?.end().catch(() => {})
    await fed?.stop()
  })

  test('the edges hold exactly the oracle\'s rows', async () => {
    const total = async (c: pg.Client) => Number((await c.query('SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM logs) AS n')).rows[0].n)
    assert.equal(await total(oracle), fed.events)
    assert.equal(await total(gw), fed.events)
  })

  /** Runs each query on both sides; returns the differences and a summary of categories and tiers. */
  async function differential(queries: readonly TestQuery[]): Promise<{ failures: string[]; tiers: Map<string, number>; summary: string }> {
    const failures: string[] = []
    const byCategory = new Map<string, number>()
    const tiers = new Map<string, number>()
    for (const q of queries) {
      byCategory.set(q.category, (byCategory.get(q.category) ?? 0) + 1)
      const [got, want] = await Promise.all([answer(gw, q), answer(oracle, q)])
      const d = diff(q, got, want)
      if (d) failures.push(`[${q.category}] ${q.sql} ${q.params ? JSON.stringify(q.params) : ''}\n    ${d}`)
      if (!q.sql.startsWith('EXPLAIN')) {
        const plan = await gw.query({ text: `EXPLAIN ${q.sql}`, values: q.params }).catch(() => undefined)
        const tier = (plan?.rows[0]?.['QUERY PLAN'] as string | undefined)?.replace('Fedgres ', '') ?? 'error'
        tiers.set(tier, (tiers.get(tier) ?? 0) + 1)
      }
    }
    const summary = `${queries.length} queries; by category ${JSON.stringify(Object.fromEntries(byCategory))}; by tier ${JSON.stringify(Object.fromEntries(tiers))}`
    console.log(summary)
    return { failures, tiers, summary }
  }

  test('fixed and generated queries: every answer identical', async () => {
    const queries = [...FIXED, ...generateQueries(300)]
    const { failures, tiers, summary } = await differential(queries)
    assert.ok(queries.length >= 300)
    for (const t of ['router', 'union', 'merge-sorted', 'partial-aggregate', 'gather']) assert.ok((tiers.get(t) ?? 0) > 0, `no query ran as ${t}: ${summary}`)
    assert.equal(failures.length, 0, `${failures.length} of ${queries.length} answers differ:\n${failures.slice(0, 40).join('\n')}`)
  })

  test('richer generated queries (expressions, boolean trees, grouping sets, set operations, windows, lateral joins): every answer identical', async () => {
    const queries = generateRichQueries(200)
    const { failures, tiers, summary } = await differential(queries)
    for (const t of ['router', 'merge-sorted', 'partial-aggregate', 'gather']) assert.ok((tiers.get(t) ?? 0) > 0, `no query ran as ${t}: ${summary}`)
    assert.equal(failures.length, 0, `${failures.length} of ${queries.length} answers differ:\n${failures.slice(0, 40).join('\n')}`)
  })

  test('subqueries with one value for the statement run first (init plans), and their values prune: every answer identical', async () => {
    const queries = generateRichQueries(3000, 11).filter((q) => q.category === 'rich-init-plan')
    const { failures, summary } = await differential(queries)
    assert.ok(queries.length >= 60, summary)
    assert.equal(failures.length, 0, `${failures.length} of ${queries.length} answers differ:\n${failures.slice(0, 40).join('\n')}`)
    // IN of one host's alerts asks only the edge holding that host's logs.
    const plan = (await gw.query("EXPLAIN SELECT count(*) FROM logs WHERE host_name IN (SELECT host_name FROM alerts WHERE host_name = 'node-1a' AND severity > 0)")).rows.map((r) => r['QUERY PLAN'] as string)
    assert.match(plan[0]!, /^Fedgres (router|partial-aggregate)$/)
    assert.match(plan[1]!, /^ {2}InitPlan 1 \(returns \$1: its rows, for ANY\): 1 row\(s\) in/)
    const outer = plan.slice(plan.findIndex((l, i) => i > 1 && /^ {2}\S/.test(l)))
    assert.ok(outer.some((l) => /^ {2}Shards asked: 1$/.test(l)), plan.join('\n'))
    assert.ok(outer.some((l) => /logs.host_name: holds none of 'node-1a'/.test(l)), plan.join('\n'))
  })

  test('aggregated derived tables of a gathered statement run apart on the edges: every answer identical', async () => {
    const queries = generateRichQueries(3000, 13).filter((q) => q.category === 'rich-derived-apart')
    const { failures, summary } = await differential(queries)
    assert.ok(queries.length >= 60, summary)
    assert.equal(failures.length, 0, `${failures.length} of ${queries.length} answers differ:\n${failures.slice(0, 40).join('\n')}`)
    // Metabase's nested question: the inner aggregate runs on the edges, only its groups reach the gateway.
    const plan = (await gw.query('EXPLAIN SELECT count(*), avg(n) FROM (SELECT host_name, count(*) AS n FROM logs GROUP BY 1) source WHERE n > 10')).rows.map((r) => r['QUERY PLAN'] as string)
    assert.equal(plan[0], 'Fedgres gather')
    assert.match(plan[1]!, /^ {2}InitPlan 1 \(returns \$1\.\.\$2: the rows of a subquery in FROM\): 8 row\(s\) in/)
    assert.equal(plan[2], '      Fedgres partial-aggregate')
    assert.ok(plan.some((l) => /^ {2}Local SQL: SELECT count\(\*\), avg\(n\) FROM unnest\(\$1, \$2\) AS source\(host_name, n\) WHERE n > 10$/.test(l)), plan.join('\n'))
  })

  test('the planner knows every aggregate function in PostgreSQL 18\'s catalog', async () => {
    const r = await oracle.query("SELECT DISTINCT proname::text AS name FROM pg_catalog.pg_proc WHERE prokind = 'a' AND pronamespace = 'pg_catalog'::regnamespace ORDER BY 1")
    assert.deepEqual([...AGGREGATES].sort(), r.rows.map((x) => x.name as string).sort())
  })

  test('the session\'s TimeZone, DateStyle and IntervalStyle hold on the edges, in every tier', async () => {
    // Each step runs on both sides in order; a SET changes what the following queries compute.
    const failures: string[] = []
    for (const step of SESSION_STEPS) {
      const q = { sql: step, ordered: true, category: 'settings' }
      const d = diff(q, await answer(gw, q), await answer(oracle, q))
      if (d) failures.push(`${step}\n    ${d}`)
    }
    await Promise.all([gw.query('RESET ALL'), oracle.query('RESET ALL')])
    assert.deepEqual(failures, [])
  })

  test('current_user, current_database(), current_setting() and the like answer for the client\'s session in every tier', async () => {
    // Evaluated on an edge they would name the gateway's login and the edge's store there.
    const one = async (sql: string) => (await gw.query({ text: sql, rowMode: 'array', types: raw })).rows as string[][]
    const [me] = await one("SELECT current_user, session_user, current_database(), current_schema(), version(), current_schemas(true)::text, current_setting('application_name')")
    const [[alerts]] = await one('SELECT count(*) FROM alerts')
    const [[nodeAlerts]] = await one("SELECT count(*) FROM alerts WHERE host_name = 'node-1a'")
    const expect: [string, string[][]][] = [
      ["SELECT current_user, session_user, current_database(), count(*) FROM alerts WHERE host_name = 'node-1a'", [[me![0]!, me![1]!, me![2]!, nodeAlerts!]]],
      ['SELECT current_user, current_database(), current_schema(), version(), current_schemas(true)::text FROM alerts LIMIT 1', [[me![0]!, me![2]!, me![3]!, me![4]!, me![5]!]]],
      ['SELECT CURRENT_USER, CURRENT_CATALOG, CURRENT_SCHEMA, USER FROM alerts ORDER BY time LIMIT 1', [[me![0]!, me![2]!, me![3]!, me![0]!]]],
      ['SELECT current_user, count(*) FROM alerts GROUP BY 1', [[me![0]!, alerts!]]],
      ["SELECT count(*) FROM alerts WHERE current_database() = 'fedgres' AND current_user = session_user", [[alerts!]]],
      ["SELECT current_setting('application_name'), count(*) FROM alerts WHERE host_name = 'node-1a' GROUP BY 1", [[me![6]!, nodeAlerts!]]],
      ["SELECT count(*) FROM alerts WHERE current_setting('application_name') = 'fedgres-oracle-test' AND host_name = 'node-1a'", [[nodeAlerts!]]],
    ]
    assert.equal(me![2], 'fedgres')
    assert.equal(me![6], 'fedgres-oracle-test')
    for (const [sql, want] of expect) assert.deepEqual(await one(sql), want, sql)
  })

  test('COPY TO STDOUT, in text, CSV and binary, and psql\'s \\copy, write the bytes PostgreSQL writes', async () => {
    const copy = async (c: pg.Client, sql: string) => {
      const chunks: Buffer[] = []
      for await (const chunk of c.query(copyTo(sql))) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks)
    }
    for (const sql of COPY_STATEMENTS) {
      const [got, want] = [await copy(gw, sql), await copy(oracle, sql)]
      assert.ok(want.length > 0, sql)
      assert.ok(got.equals(want), `${sql}\ngateway: ${got.toString('utf8', 0, 300)}\noracle: ${want.toString('utf8', 0, 300)}`)
    }
    const psqlCopy = "\\copy (SELECT time, host_name, namespace_name, tags FROM alerts WHERE host_name = 'node-1a' ORDER BY time LIMIT 1000) TO STDOUT WITH (FORMAT csv, HEADER)"
    const viaGateway = await runPsql({ host: '127.0.0.1', port: fed.gateway.port, user: fed.gateway.user, password: fed.gateway.password, database: 'fedgres', tls: false }, [psqlCopy])
    const viaOracle = await runPsql({ host: fed.oracle.host, port: fed.oracle.port, user: fed.oracle.user, password: fed.oracle.password, database: fed.oracle.database, tls: false }, [psqlCopy])
    assert.equal(viaGateway.code, 0, viaGateway.stderr)
    assert.ok(viaOracle.stdout.split('\n').length > 1000, viaOracle.stderr)
    assert.equal(viaGateway.stdout, viaOracle.stdout)
  })

  test('a run-time error after some rows sends those rows first, in the tiers that compute in the gateway', async () => {
    // node-postgres drops a failed query's rows; its row events show what came before the error.
    const stream = (c: pg.Client, sql: string) =>
      new Promise<string[]>((resolve) => {
        const got: string[] = []
        const q = c.query(new pg.Query({ text: sql, rowMode: 'array' } as pg.QueryConfig))
        q.on('row', (r: unknown[]) => got.push(JSON.stringify(r)))
        q.on('error', (e: Error) => resolve([...got, `error ${(e as { code?: string }).code}`]))
        q.on('end', () => resolve(got))
      })
    for (const sql of [
      // gather: the window runs in the gateway's engine over the hosts gathered from the edges
      'SELECT h, 1 / (row_number() OVER (ORDER BY h) - 3) FROM (SELECT DISTINCT host_name AS h FROM alerts) s ORDER BY h',
      // the catalog engine alone
      'SELECT g, 1 / (g - 3) FROM generate_series(1, 5) g',
    ]) {
      const [got, want] = await Promise.all([stream(gw, sql), stream(oracle, sql)])
      assert.ok(want.length > 1 && want.at(-1) === 'error 22012', `the oracle sends rows, then the error: ${sql}`)
      assert.deepEqual(got, want, sql)
    }
  })

  test('float aggregates agree with PostgreSQL to float rounding', async () => {
    // Float addition is not associative: summed per edge, the last digits can differ from one
    // table's sum, as PostgreSQL's own parallel plans differ from its serial ones.
    for (const sql of FLOAT_QUERIES) {
      const [got, want] = await Promise.all([answer(gw, { sql, ordered: true, category: 'float' }), answer(oracle, { sql, ordered: true, category: 'float' })])
      assert.equal(got.fields, want.fields, sql)
      assert.equal(got.rows!.length, want.rows!.length, sql)
      got.rows!.forEach((row, i) => {
        const g = JSON.parse(row) as string[]
        const w = JSON.parse(want.rows![i]!) as string[]
        g.forEach((v, k) => {
          const a = Number(v)
          const b = Number(w[k])
          if (Number.isNaN(b)) assert.equal(v, w[k], sql)
          else assert.ok(Math.abs(a - b) <= 1e-11 * Math.max(1, Math.abs(b)), `${sql}: column ${k + 1}: gateway ${v}, oracle ${w[k]}`)
        })
      })
    }
  })
})
