/**
 * The simple query protocol: one Query message, any number of statements, text results, one
 * ReadyForQuery. The first error ends the message's remaining statements, as in PostgreSQL, and
 * undoes what the ones before it did outside a transaction block.
 * @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
import type { Responder } from '../../common/pgwire/server/responder.js'
import { sendExecution } from './send.js'
import { shiftedPosition } from './frame-error.js'
import { timed } from './statement-timeout.js'
import type { Session } from './session.js'
import { parseStatements } from './sql-parse.js'

export async function runSimpleQuery(s: Session, sql: string, out: Responder): Promise<void> {
  let stmts
  try {
    stmts = parseStatements(sql)
  } catch (e) {
    s.failed(e, out)
    return
  }
  if (stmts.length === 0) {
    out.enc.emptyQueryResponse()
    return
  }
  // Several statements run in one implicit transaction block, as in PostgreSQL: an error undoes
  // the SETs and cursors of those before it; a COMMIT or ROLLBACK among them ends one, and the
  // next statement begins another.
  const implicit = stmts.length > 1
  for (const st of stmts) {
    if (implicit && s.txn === 'idle') s.beginImplicit('block')
    try {
      const cls = s.statements.classify(st)
      const armed = timed(st, cls) ? s.statementTimer.arm() : undefined
      if (armed) await armed
      const ex = await s.statements.run(st, cls, null)
      await sendExecution(s, ex, out, { rowDescription: true, maxRows: 0 })
    } catch (e) {
      s.failed(shiftedPosition(e, st.offset), out)
      if (s.implicit === 'block') s.endImplicit(false)
      return
    } finally {
      s.statementTimer.disarm()
    }
    await out.maybeFlush()
  }
  if (s.implicit === 'block') s.endImplicit(true)
}
