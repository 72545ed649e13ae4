/**
 * Runs the derived tables of a statement that would be gathered (plan/derived-tables.ts): each
 * apart (run-apart.ts), when it plans in a tier that runs on the edges, and its rows bound as one
 * array parameter per column. The statement is then planned again over them.
 */
import { decodeBackendMessage } from '../../common/pgwire/index.js'
import { derivedCandidates, withDerivedRows, type DerivedCandidate } from '../plan/derived-tables.js'
import type { Node } from '../plan/ast.js'
import { arrayTypeOf, NAME_OID } from '../plan/pg-types.js'
import type { DataQuery } from './data-executor.js'
import type { Prepared } from './federated-executor.js'
import { binaryArray } from './binary-values.js'
import { Binding, concurrently, type BoundStatement, type StatementRunner } from './run-apart.js'

/** The output names of a prepared statement, from its RowDescription. */
function outputNames(p: Prepared): string[] | undefined {
  const rd = p.rowDescription ? decodeBackendMessage(p.rowDescription) : undefined
  return rd?.type === 'RowDescription' ? rd.fields.map((f) => f.name) : undefined
}

const WHAT = { from: 'the rows of a subquery in FROM', with: 'the rows of a WITH query', arm: 'the rows of a set operation\'s arm' }

/**
 * The statement with its derived tables' rows bound, or undefined when none is worth running
 * apart: none plans in an edge tier, or one cannot (it reads an outer query, has a column of an
 * array or unknown type, duplicate names, or more rows than `maxRows`).
 */
export async function bindDerivedTables(exec: StatementRunner, q: DataQuery, select: Node, paramTypes: readonly number[], paramFormats: readonly number[], maxRows: number): Promise<BoundStatement | undefined> {
  const found = derivedCandidates(select, q.searchPath)
  if (found.length === 0) return undefined
  const binding = new Binding(exec, q, paramTypes, paramFormats)
  // Each runs apart from the others, all at once; then their rows are bound in order.
  const runs = await concurrently(found, async (c) => {
    const started = performance.now()
    const p = await binding.prepare(c.select, c.sql)
    if (!p || p.plan.tier === 'gather') return 'skip' as const
    const arrays = p.columnTypes.map((t) => (t === NAME_OID ? undefined : arrayTypeOf(t)))
    const own = outputNames(p)
    const names = own && c.names.length <= own.length ? [...c.names, ...own.slice(c.names.length)] : undefined
    if (!names || names.length === 0 || new Set(names).size !== names.length || arrays.some((a) => a === undefined)) return 'skip' as const
    const rows = await binding.rows(p)
    if (!rows || rows.length > maxRows) return undefined
    return { c, p, arrays: arrays as number[], names, rows, ms: performance.now() - started }
  })
  if (runs.some((r) => r === undefined)) return undefined
  const bound: { candidate: DerivedCandidate; params: number[]; names: string[] }[] = []
  for (const r of runs) {
    if (r === 'skip' || r === undefined) continue
    const params = r.p.columnTypes.map((t, i) => binding.bind(r.arrays[i]!, binaryArray(t, r.rows.map((row) => row[i] ?? null))))
    bound.push({ candidate: r.c, params, names: r.names })
    binding.parts.push({ param: params[0]!, params: params.length, what: WHAT[r.c.place], sql: r.c.sql, plan: r.p.plan, rows: r.rows.length, ms: r.ms, parts: r.p.parts })
  }
  return bound.length ? binding.bound(withDerivedRows(select, bound)) : undefined
}
