/**
 * The statement's clock fixed in its tree: now() and its kin, CURRENT_TIMESTAMP and the other
 * SQL value functions, and the clock's input words ('now', 'today', ...) become literals of the
 * transaction's or the statement's time, so every edge reads the same instants.
 */
import { body, cast, catalogFunctionName, intConst, kind, rewrite, textConst, type Node } from './ast.js'
import { clockWordValue } from './clock-literals.js'
import type { PlanInput } from './types.js'

/**
 * now() and its kin become the transaction's timestamp, and statement_timestamp() the statement's,
 * as literals, so every edge reads the same instants, those PostgreSQL would.
 */
export function fixStatementTime(stmt: Node, clock: Pick<PlanInput, 'statementTime' | 'transactionTime' | 'wordsTime'>, onFix: () => void = () => {}): Node {
  const at = (time: string) => {
    onFix()
    return cast(textConst(time), 'timestamptz')
  }
  const ts = () => at(clock.transactionTime ?? clock.statementTime)
  return rewrite(stmt, (w) => {
    const k = kind(w)
    if (k === 'TypeCast') return clockWordValue(body(w), () => at(clock.wordsTime ?? clock.transactionTime ?? clock.statementTime))
    if (k === 'FuncCall') {
      const f = body(w)
      const name = catalogFunctionName(f)
      if (name !== undefined && !f.args && (name === 'now' || name === 'transaction_timestamp')) return ts()
      if (name === 'statement_timestamp' && !f.args) return at(clock.statementTime)
      return undefined
    }
    if (k === 'SQLValueFunction') {
      const f = body(w)
      // CURRENT_TIMESTAMP(p) and its kin (op ..._N; a typmod of 0 is absent from the tree) are the
      // same instant rounded to p digits, as the cast to the type with that precision rounds it.
      const precise = (type: string) => (String(f.op).endsWith('_N') ? withPrecision(cast(ts(), type), Number(f.typmod ?? 0)) : cast(ts(), type))
      switch (f.op) {
        case 'SVFOP_CURRENT_TIMESTAMP':
          return ts()
        case 'SVFOP_CURRENT_TIMESTAMP_N':
          return precise('timestamptz')
        case 'SVFOP_CURRENT_DATE':
          return cast(ts(), 'date')
        case 'SVFOP_LOCALTIMESTAMP':
        case 'SVFOP_LOCALTIMESTAMP_N':
          return precise('timestamp')
        case 'SVFOP_CURRENT_TIME':
        case 'SVFOP_CURRENT_TIME_N':
          return precise('timetz')
        case 'SVFOP_LOCALTIME':
        case 'SVFOP_LOCALTIME_N':
          return precise('time')
      }
    }
    return undefined
  }) as Node
}

/** A cast's type given a precision: `x::timestamptz` becomes `x::timestamptz(p)`. */
function withPrecision(c: Node, p: number): Node {
  const tc = body(c)
  return { TypeCast: { ...tc, typeName: { ...(tc.typeName as Node), typmods: [intConst(p)] } } }
}
