/**
 * The differential suite: every query runs through the gateway (4 edges, 104,000 events split by
 * host) and on one native PostgreSQL 18.4 holding the same rows; the answers must be identical —
 * column names and types, and every value as PostgreSQL writes it: in order where ORDER BY fixes
 * the order, as a multiset otherwise.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { startOracleFederation, type OracleFederation } from '../helpers/oracle-federation.js'
import { FIXED, generateQueries, type TestQuery } from './query-generator.js'

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
    gw = new pg.Client({ host: '127.0.0.1', port: fed.gateway.port, user: fed.gateway.user, password: fed.gateway.password, database: 'fedgres' })
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

  test('fixed and generated queries: every answer identical', async () => {
    const queries = [...FIXED, ...generateQueries(300)]
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
    assert.ok(queries.length >= 300)
    for (const t of ['router', 'union', 'merge-sorted', 'partial-aggregate', 'gather']) assert.ok((tiers.get(t) ?? 0) > 0, `no query ran as ${t}: ${summary}`)
    assert.equal(failures.length, 0, `${failures.length} of ${queries.length} answers differ:\n${failures.slice(0, 40).join('\n')}`)
  })
})
