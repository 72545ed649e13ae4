/**
 * The simple query protocol: one Query message, any number of statements, text results, one
 * ReadyForQuery. The first error ends the message's remaining statements, as in PostgreSQL.
 * @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
import type { Responder } from '../../common/pgwire/server/responder.js'
import { sendExecution } from './send.js'
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
  for (const st of stmts) {
    try {
      const armed = s.statementTimer.arm()
      if (armed) await armed
      const ex = await s.statements.run(st, s.statements.classify(st), null)
      await sendExecution(s, ex, out, { rowDescription: true, maxRows: 0 })
    } catch (e) {
      s.failed(e, out)
      return
    } finally {
      s.statementTimer.disarm()
    }
    await out.maybeFlush()
  }
}
