/**
 * Runs a statement's init plans (plan/init-plans.ts) before the statement is planned: each
 * subquery apart (run-apart.ts), its value, or its rows as an array, bound as a parameter. A
 * scalar subquery of more than one row is left in the statement, which then raises PostgreSQL's
 * error only where PostgreSQL evaluates the subquery.
 */
import { deparseSelect, type Node } from '../plan/ast.js'
import { distinctValues, initCandidates, withInitParams, type InitCandidate } from '../plan/init-plans.js'
import { arrayTypeOf, NAME_OID } from '../plan/pg-types.js'
import type { DataQuery } from './data-executor.js'
import { binaryArray } from './binary-values.js'
import { Binding, concurrently, type BoundStatement, type StatementRunner } from './run-apart.js'

/** Types whose equal values are the same value (text, integers, booleans, times, uuid): DISTINCT loses nothing ANY could tell apart. */
const IDENTITY_EQUALITY = new Set([16, 20, 21, 23, 25, 26, 1043, 1082, 1114, 1184, 2950])

const WHAT = { scalar: 'its value', any: 'its rows, for ANY', all: 'its rows, for ALL', array: 'its rows, for ARRAY()' }

/** Candidates by the parse cache's frozen tree and the search path it was searched under (a repeated statement is searched once). */
const candidatesOf = new WeakMap<object, { readonly path: string; readonly found: InitCandidate[] }>()

function candidates(select: Node, searchPath: readonly string[]): InitCandidate[] {
  if (!Object.isFrozen(select)) return initCandidates(select, searchPath)
  // Which relations a name reads depends on the path.
  const path = searchPath.join(',')
  const hit = candidatesOf.get(select)
  if (hit?.path === path) return hit.found
  const found = initCandidates(select, searchPath)
  candidatesOf.set(select, { path, found })
  return found
}

/**
 * The statement with its init plans' values bound, or undefined when it has none that can run
 * apart (the statement is then planned as written).
 */
export async function bindInitPlans(exec: StatementRunner, q: DataQuery, select: Node, paramTypes: readonly number[], paramFormats: readonly number[]): Promise<BoundStatement | undefined> {
  const found = candidates(select, q.searchPath)
  if (found.length === 0) return undefined
  const binding = new Binding(exec, q, paramTypes, paramFormats)
  // Each runs apart from the others, all at once; then their values are bound in order.
  const runs = await concurrently(found, async (c) => {
    const started = performance.now()
    let p = await binding.prepare(c.select, c.sql)
    const type = p?.columnTypes[0]
    const arrayType = type === undefined ? undefined : c.kind === 'scalar' ? type : arrayTypeOf(type)
    if (!p || p.columnTypes.length !== 1 || arrayType === undefined || type === NAME_OID) return undefined
    // ANY and ALL need each value once: asked of the edges with DISTINCT where equality is identity.
    const distinct = (c.kind === 'any' || c.kind === 'all') && IDENTITY_EQUALITY.has(type!) ? distinctValues(c.select) : undefined
    if (distinct) p = (await binding.prepare(distinct, deparseSelect(distinct))) ?? p
    const rows = await binding.rows(p)
    if (!rows || (c.kind === 'scalar' && rows.length > 1)) return undefined
    return { c, p, type: type!, arrayType, values: rows.map((r) => r[0] ?? null), ms: performance.now() - started }
  })
  if (runs.some((r) => r === undefined)) return undefined
  const bound: { candidate: InitCandidate; param: number }[] = []
  for (const { c, p, type, arrayType, values, ms } of runs as NonNullable<(typeof runs)[number]>[]) {
    const param = binding.bind(arrayType, c.kind === 'scalar' ? (values[0] ?? null) : binaryArray(type, values))
    bound.push({ candidate: c, param })
    binding.parts.push({ param, params: 1, what: WHAT[c.kind], sql: c.sql, plan: p.plan, rows: values.length, ms, parts: p.parts })
  }
  return binding.bound(withInitParams(select, bound))
}
