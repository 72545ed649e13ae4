/**
 * PostgreSQL's clock for a session: now() and its kin are the transaction's start, and
 * statement_timestamp() the statement's, to the microsecond. Statements over the events get
 * them as literals from the planner; statements the catalog engine answers get them the same
 * way here, since that engine is shared and its own now() is the time of each statement.
 */
import { deparseSql } from '../../common/sql-deparse.js'
import { outputName } from '../plan/ast.js'
import { fixStatementTime } from '../plan/planner.js'
import { walk, type AstNode, type ParsedStatement } from './sql-parse.js'

/**
 * The wall clock to the microsecond, as PostgreSQL's now() has it (Date.now() has only
 * milliseconds); the monotonic clock's reading is used while it agrees with the wall clock.
 */
export function clockMicros(): number {
  const wall = Date.now()
  const precise = performance.timeOrigin + performance.now()
  return Math.round((Math.abs(precise - wall) < 1 ? precise : wall) * 1000)
}

/** Microseconds since the epoch as a timestamptz literal, to the microsecond, in UTC. */
export function timestampText(micros: number): string {
  const ms = Math.floor(micros / 1000)
  const frac = String(micros - ms * 1000).padStart(3, '0')
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', `${frac}+00`)
}

const CLOCK_WORDS = /\b(now|today|tomorrow|yesterday|current_timestamp|current_date|current_time|localtimestamp|localtime|transaction_timestamp|statement_timestamp)\b/i
const UNUSED_CLOCK = { statementTime: '', transactionTime: '' }

/** Whether a tree reads the clock: whether the planner's fixStatementTime puts a time in it. */
function readsClock(n: unknown): boolean {
  let found = false
  fixStatementTime(n as AstNode, UNUSED_CLOCK, () => (found = true))
  return found
}

/**
 * The SQL for the catalog engine with the session's clock in it, or undefined to run the text as
 * it is (no clock read, or one in a FROM list, which a literal cannot stand for). Targets that
 * read the clock keep the names PostgreSQL gives them ("now", "current_date", ...).
 */
export function clockFixedSql(stmt: ParsedStatement, clock: { readonly statement: number; readonly transaction: number; readonly parsed?: number }): string | undefined {
  if (!CLOCK_WORDS.test(stmt.text) || stmt.type !== 'SelectStmt' || !readsClock(stmt.node)) return undefined
  let inFrom = false
  walk(stmt.node, (type, f) => {
    if (type === 'RangeFunction' && readsClock(f)) inFrom = true
  })
  if (inFrom) return undefined
  const named = structuredClone(stmt.node) as AstNode
  walk(named, (type, f) => {
    if (type !== 'SelectStmt') return
    for (const t of (f.targetList as AstNode[] | undefined) ?? []) {
      const rt = t.ResTarget as AstNode | undefined
      if (rt && rt.name === undefined && readsClock(rt.val)) rt.name = outputName(rt)
    }
  })
  const wordsTime = clock.parsed === undefined ? undefined : timestampText(clock.parsed)
  const select = fixStatementTime(named.SelectStmt as AstNode, { statementTime: timestampText(clock.statement), transactionTime: timestampText(clock.transaction), wordsTime })
  return deparseSql({ stmts: [{ stmt: { SelectStmt: select } }] } as never)
}
