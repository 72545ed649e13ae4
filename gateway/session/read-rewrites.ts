/**
 * What a read statement becomes before the gateway's engine or the planner sees it, and what is
 * done with the engine's read-back after it ran (ShadowRunner.witness, in the same exchange):
 * - the process functions and pg_stat_activity answered for the gateway's sessions, the signal
 *   functions then acting on the calls that ran (backend-functions.ts, signals.ts);
 * - reads of custom settings the session never defined made to read them as absent
 *   (placeholders.ts);
 * - set_config() calls witnessed, what they set kept as the session's (set-config-calls.ts).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { SIGNALS_READ_BACK, withBackendFunctions } from './backend-functions.js'
import type { StatementClass } from './classify.js'
import { hideUndefined } from './placeholders.js'
import { readBackSql, witnessSetConfig } from './set-config-calls.js'
import { captureSetConfig } from './set-statements.js'
import type { Session } from './session.js'
import { applySignals } from './signals.js'
import type { ParsedStatement } from './sql-parse.js'
import type { Execution } from './statement-runner.js'

export interface ReadRewrite {
  /** The statement to run instead of the client's. */
  readonly stmt: ParsedStatement
  /** The read-back to run after it in each exchange, if any. */
  readonly witness?: string
  /** The execution once the read-back's rows are in (may throw the statement's error). */
  settle(out: Execution, readBacks: (string | null)[][]): Execution
}

/** How `stmt` must run for this session; undefined when it runs as the client wrote it. */
export function readRewrite(s: Session, stmt: ParsedStatement, cls: Extract<StatementClass, { kind: 'read' }>): ReadRewrite | undefined {
  const backend = withBackendFunctions(stmt, () => s.backends())
  if (backend instanceof PgError) throw backend
  const base = backend?.stmt ?? stmt
  const hidden = s.undefinedSettings()
  const hiding = hidden && hideUndefined(base, hidden)
  if (hiding instanceof PgError) throw hiding
  const rewritten = hiding || (backend ? base : undefined)
  const witnessed = cls.setsConfig ? witnessSetConfig(rewritten ?? stmt) : undefined
  if (!rewritten && !witnessed) return undefined
  if (witnessed && backend?.signals) throw new PgError(SqlState.FeatureNotSupported, 'pg_cancel_backend() or pg_terminate_backend() in the statement of a set_config() is not supported by Fedgres')
  if (witnessed) {
    return {
      stmt: witnessed.stmt,
      witness: readBackSql(witnessed.calls),
      // set_config() runs in the gateway's engine (the gather tier), never on an edge; what it set is the session's.
      settle: (out, rows) => {
        captureSetConfig(s, witnessed.calls, rows)
        return out
      },
    }
  }
  if (backend?.signals) return { stmt: rewritten!, witness: SIGNALS_READ_BACK, settle: (out, rows) => signalled(s, out, rows) }
  return { stmt: rewritten!, settle: (out) => out }
}

/** A statement that called the signal functions, once their calls have acted (signals.ts). */
function signalled(s: Session, out: Execution, rows: (string | null)[][]): Execution {
  const done = applySignals(rows.map((r) => r[0] ?? '').join(''), s.activity, s.deps.activities)
  if (done.terminateSelf) {
    s.ctx.terminate(done.terminateSelf)
    throw done.terminateSelf
  }
  if (done.error) throw done.error
  if (done.notices.length === 0 || out.kind !== 'rows') return out
  const r = out.result
  const notices = [...done.notices, ...r.notices]
  return { ...out, result: { notices, rowDescription: r.rowDescription, next: () => r.next(), take: () => r.take(), tag: () => r.tag(), close: () => r.close() } }
}
