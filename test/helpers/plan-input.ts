/**
 * What the planner's unit tests plan with: a statement's text and the edges, in one fixed session
 * (now = 1000, a 5 s synopsis window, a UTC session, the default search path); `extra` overrides.
 * libpg-query's module must be loaded first (`before(() => loadModule())`).
 */
import { parseSync } from 'libpg-query'
import type { EdgeEndpoint } from '../../gateway/discovery/edge-view.js'
import { plan } from '../../gateway/plan/planner.js'
import type { Plan, PlanInput } from '../../gateway/plan/types.js'

/** The SelectStmt of `sql`. */
export const selectOf = (sql: string): Record<string, unknown> => (parseSync(sql) as { stmts: { stmt: { SelectStmt: Record<string, unknown> } }[] }).stmts[0]!.stmt.SelectStmt

export const planInput = (select: Record<string, unknown>, edges: readonly EdgeEndpoint[], extra: Partial<PlanInput> = {}): PlanInput => ({
  select, edges, params: [], paramCount: 0, now: 1000, synopsisMaxAgeMs: 5000, statementTime: '2026-11-22 12:00:00+00', utcSession: true, searchPath: ['$user', 'public'], maxGatherRows: 1000, ...extra,
})

export const planSql = (sql: string, edges: readonly EdgeEndpoint[], extra: Partial<PlanInput> = {}): Plan => plan(planInput(selectOf(sql), edges, extra))
