/**
 * The Grafana dashboard in deploy/grafana works against a live federation: every SQL query in it
 * (template variables and panel targets) is rewritten exactly as Grafana rewrites it (frontend
 * variables, then the backend's macros) and sent to the gateway over TLS as Grafana's backend
 * sends it, one simple-protocol Query per panel. Each must succeed and return rows. The data source
 * provisioning file must name the gateway the dashboard expects. Then Grafana's own Go driver,
 * lib/pq, runs every one of those statements and must see what node-postgres saw.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import YAML from 'yaml'
import { repoRoot } from '../../common/paths.js'
import { gatewayConfigSchema } from '../../gateway/config.js'
import { runPq } from '../clients/pq-client.js'
import { expandGrafanaMacros } from '../helpers/grafana-macros.js'
import { startMiniFederation, type MiniFederation } from '../helpers/mini-federation.js'
import { allPanels, loadDashboard, panelQueries, queryVariables, variableSql } from './dashboard-model.js'
import * as meta from './postgres-meta-queries.js'
import { panelScopedVars, replaceTemplateVariables, type DashboardVariable } from './template-srv.js'

const grafanaDir = join(repoRoot(), 'deploy', 'grafana')
const dashboard = loadDashboard(join(grafanaDir, 'dashboards', 'fedgres-overview.json'))
const datasources = YAML.parse(readFileSync(join(grafanaDir, 'provisioning', 'datasources', 'fedgres.yaml'), 'utf8'))
const providers = YAML.parse(readFileSync(join(grafanaDir, 'provisioning', 'dashboards', 'fedgres.yaml'), 'utf8'))
const ds = datasources.datasources[0]
const gatewayDefaults = gatewayConfigSchema.parse({ users: [{ name: 'x', scram: 'SCRAM-SHA-256$4096:c2FsdA==$c3Q=:c2s=' }] })

describe('Grafana provisioning files', () => {
  test('the data source is the PostgreSQL plugin pointed at the gateway, over TLS, with the password from the environment', () => {
    assert.equal(datasources.apiVersion, 1)
    assert.equal(datasources.datasources.length, 1)
    assert.equal(ds.type, 'grafana-postgresql-datasource')
    assert.equal(ds.url, `gateway:${gatewayDefaults.listen.port}`)
    assert.equal(ds.jsonData.database, gatewayDefaults.database)
    assert.equal(ds.database, gatewayDefaults.database)
    assert.equal(ds.jsonData.sslmode, 'require')
    assert.equal(ds.jsonData.timescaledb, false)
    assert.equal(ds.secureJsonData.password, '$FEDGRES_GRAFANA_PASSWORD')
    assert.ok(ds.user, 'a user name')
  })

  test('every panel, target and variable of the dashboard uses that data source by uid', () => {
    assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`)
    const refs = [
      ...allPanels(dashboard).filter((p) => p.targets).flatMap((p) => [p.datasource, ...p.targets!.map((t) => t.datasource)]),
      ...queryVariables(dashboard).map((v) => v.datasource),
    ]
    assert.ok(refs.length > 20)
    for (const ref of refs) assert.deepEqual(ref, { type: ds.type, uid: ds.uid })
  })

  test('the dashboard provider loads dashboards from files', () => {
    assert.equal(providers.apiVersion, 1)
    const [p] = providers.providers
    assert.equal(p.type, 'file')
    assert.match(p.options.path, /^\//)
    const readme = readFileSync(join(grafanaDir, 'README.md'), 'utf8')
    assert.ok(readme.includes(`dashboards/fedgres-overview.json\` | \`${p.options.path}/\``), 'the README mounts the dashboards where the provider reads them')
  })
})

describe('Grafana dashboard queries through the gateway', () => {
  let fed: MiniFederation
  let client: pg.Client
  let range: { from: Date; to: Date }
  const variables: DashboardVariable[] = []

  /** What Grafana sends for one query: frontend variables, then the backend's macros. */
  const grafanaSql = (rawSql: string, intervalMs: number) => {
    const frontend = replaceTemplateVariables(rawSql, variables, panelScopedVars(intervalMs, range.from, range.to))
    const sql = expandGrafanaMacros(frontend, { range, intervalMs })
    assert.doesNotMatch(sql, /\$/, `nothing left to expand in:\n${sql}`)
    return sql
  }
  /** Every statement sent, with what node-postgres got: lib/pq is held to the same answers. */
  const sent: { sql: string; res: pg.QueryResult }[] = []
  const run = async (sql: string) => {
    try {
      const res = await client.query(sql)
      sent.push({ sql, res })
      return res
    } catch (e) {
      const err = e as Error & { code?: string }
      assert.fail(`${err.code ?? ''} ${err.message}\n--- sent to the gateway:\n${sql}`)
    }
  }

  before(async () => {
    fed = await startMiniFederation(['node-a', 'node-b'], [{ id: 'edge-a', source: 0 }, { id: 'edge-b', source: 1 }], 1500)
    // The events carry wall-clock times; the dashboard's range is the last hour, as Grafana would send it (ms).
    const to = new Date()
    range = { from: new Date(to.getTime() - 3_600_000), to }
    const g = fed.gateway
    // Grafana's sslmode=require: encrypted, certificate not verified.
    client = new pg.Client({ host: '127.0.0.1', port: g.port, user: g.user, password: g.password, database: g.database, ssl: { rejectUnauthorized: false } })
    await client.connect()
  })
  after(async () => {
    await client?.end().catch(() => {})
    await fed?.stop()
  })

  test("the data source's own queries work: health check, version detection, table and column lists", async () => {
    await run('-- ping') // pgx's Ping, which Save & test runs
    const version = await run(meta.getVersion())
    assert.equal(Number(version.rows[0].version), ds.jsonData.postgresVersion, 'the provisioned postgresVersion is what Grafana detects')
    assert.equal((await run(meta.getTimescaleDBVersion())).rowCount, 0)
    const names = (await run(meta.showTables())).rows.map((r) => r.table as string)
    for (const t of ['alerts', 'logs', 'fedgres.edges', 'fedgres.sources']) assert.ok(names.includes(t), `${t} in ${names.join(', ')}`)
    const columns = (await run(meta.getSchema('alerts'))).rows
    assert.ok(columns.some((r) => r.column === '"time"' && r.type === 'timestamp with time zone'), JSON.stringify(columns.slice(0, 3)))
    assert.ok((await run(meta.getSchema('fedgres.sources'))).rows.some((r) => r.column === 'state'))
  })

  test('the template variables list values from the data, each query depending on the ones before', async () => {
    for (const v of queryVariables(dashboard)) {
      const sql = grafanaSql(variableSql(v), 1000)
      const res = await run(sql)
      // Grafana's metricFindQuery takes the first column's values as the options.
      const options = res.rows.map((r) => String(Object.values(r)[0]))
      assert.ok(options.length >= 1, `variable ${v.name} has options; query:\n${sql}`)
      variables.push({ name: v.name, multi: Boolean(v.multi), includeAll: Boolean(v.includeAll), allValue: v.allValue, options, current: '$__all' })
    }
    assert.deepEqual(variables.map((v) => v.name), ['cluster', 'namespace'])
    assert.ok(variables[1]!.options.length >= 2, `namespaces: ${variables[1]!.options.join(', ')}`)
  })

  /** Time series: a numeric "time" column, epoch seconds of a bucket inside the range. */
  function checkTimeSeries(res: pg.QueryResult, intervalMs: number, sql: string): void {
    assert.ok(res.fields.some((f) => f.name === 'time'), `a "time" column in ${res.fields.map((f) => f.name).join(', ')}`)
    for (const row of res.rows) {
      const ms = Number(row.time) * 1000
      assert.ok(ms >= range.from.getTime() - intervalMs && ms <= range.to.getTime(), `bucket ${row.time} in the range; query:\n${sql}`)
    }
  }

  // Grafana's $__interval for the last hour is 10s (the data source's minimum) on a wide panel;
  // 1h is a zoomed-out view. Both must work.
  for (const intervalMs of [10_000, 3_600_000]) {
    describe(`panels at $__interval = ${intervalMs / 1000}s`, () => {
      for (const { panel, target } of panelQueries(dashboard)) {
        test(`${panel.title} (${panel.type}, ${target.refId})`, async () => {
          assert.ok(variables.length > 0, 'the template variables were resolved first')
          const sql = grafanaSql(target.rawSql, intervalMs)
          const res = await run(sql)
          assert.ok(res.rows.length >= 1, `rows from:\n${sql}`)
          if ((target.format ?? 'time_series') === 'time_series') checkTimeSeries(res, intervalMs, sql)
          // Stats count things that exist in the federation: alerts, blocks, passing edges, connected sources.
          if (panel.type === 'stat') assert.ok(Number(Object.values(res.rows[0])[0]) > 0, `${panel.title} > 0; query:\n${sql}`)
        })
      }
    })
  }

  test('the panels agree: a stat equals the sum over the edges and over its time series; a range before the events counts 0', async () => {
    const rawSql = (title: string) => panelQueries(dashboard).find((q) => q.panel.title === title)!.target.rawSql
    const first = (rows: Record<string, unknown>[]) => Number(Object.values(rows[0]!)[0])
    for (const [stat, series, column] of [['Alerts', 'Alerts by namespace', 'alerts'], ['Blocked', 'Blocked actions by operation', 'blocked']] as const) {
      const sql = grafanaSql(rawSql(stat), 10_000)
      const n = first((await run(sql)).rows)
      let onEdges = 0
      for (const e of fed.edges) onEdges += first(await e.direct(sql))
      assert.equal(n, onEdges, `${stat}: the gateway's count is the sum of the edges' counts`)
      const buckets = (await run(grafanaSql(rawSql(series), 10_000))).rows
      assert.equal(buckets.reduce((s, r) => s + Number(r[column]), 0), n, `${series} adds up to ${stat}`)
    }
    const now = range
    range = { from: new Date(now.from.getTime() - 86_400_000), to: new Date(now.to.getTime() - 86_400_000) }
    try {
      assert.equal(first((await run(grafanaSql(rawSql('Alerts'), 10_000))).rows), 0)
    } finally {
      range = now
    }
  })

  test("Grafana's Go driver, lib/pq, runs every statement above as node-postgres did: same columns, types, row counts and first rows", async () => {
    const g = fed.gateway
    const statements = sent.filter((x) => x.res.command === 'SELECT')
    assert.ok(statements.length > 20, `${statements.length} statements recorded`)
    const results = await runPq({ host: '127.0.0.1', port: g.port, user: g.user, password: g.password, database: g.database, tls: true }, statements.map((x) => x.sql))
    assert.equal(results.length, statements.length)
    const typeNames = new Map((await client.query<{ oid: number; name: string }>('SELECT oid::int AS oid, upper(typname) AS name FROM pg_type')).rows.map((r) => [r.oid, r.name]))
    for (const [i, r] of results.entries()) {
      const { sql, res } = statements[i]!
      const where = `\n--- statement:\n${sql}`
      assert.equal(r.error, undefined, `lib/pq: ${r.code} ${r.error}${where}`)
      assert.deepEqual(r.columns ?? [], res.fields.map((f) => [f.name, typeNames.get(f.dataTypeID)]), `columns and their types${where}`)
      assert.equal(r.rows, res.rowCount, `row count${where}`)
      // The live views of the network (publish times, rates) move between the two runs.
      if (res.rows.length === 0 || /\bfedgres\.(edges|sources)\b/.test(sql)) continue
      // Values lib/pq hands over as text (text, integers, numeric) and timestamps: as node-postgres read them.
      res.fields.forEach((f, k) => {
        const mine = r.first![k]
        const theirs = (res.rows[0] as Record<string, unknown>)[f.name]
        if (theirs === null) return assert.equal(mine, null, `${f.name}${where}`)
        const type = typeNames.get(f.dataTypeID)
        if (type === 'TIMESTAMPTZ' || type === 'TIMESTAMP') assert.equal(new Date(mine!).getTime(), (theirs as Date).getTime(), `${f.name}${where}`)
        else if (['TEXT', 'NAME', 'VARCHAR', 'INT2', 'INT4', 'INT8', 'NUMERIC'].includes(type!)) assert.equal(mine, String(theirs), `${f.name}${where}`)
      })
    }
  })
})
