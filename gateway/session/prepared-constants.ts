/**
 * A prepared statement's constants under the settings of its Parse. PostgreSQL reads them once,
 * at Parse: `time < '2026-10-01 10:00'` prepared under UTC keeps meaning 10:00 UTC after SET
 * TimeZone. Fedgres sends the statement's text each time it runs, read under the settings of now,
 * so it refuses to run one whose constants would be read otherwise (a parameter is read at Bind
 * in both).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { nameOf, type Prepared } from './prepared-store.js'
import type { Session } from './session.js'
import { walk } from './sql-parse.js'

/** Refuses to run prepared statement `name` when its constants were read under other input settings than the session's now. */
export async function sameInputSettings(s: Session, name: string, prepared: Prepared): Promise<void> {
  if (prepared.readUnder === undefined || prepared.readUnder === (await s.statements.inputSettings())) return
  throw new PgError(SqlState.FeatureNotSupported, `${nameOf('statement', name)} was prepared under other TimeZone, DateStyle or IntervalStyle settings`, {
    hint: 'PostgreSQL reads its constants as they were when it was prepared; Fedgres would read them under the current settings. Prepare it again, or pass such values as parameters.',
  })
}

/**
 * Whether a statement has a string constant that TimeZone, DateStyle or IntervalStyle could read
 * otherwise: a date, time or interval has digits ('2026-10-01 10:00', '02/10/2026', '1 2:03'),
 * unless it is one of the clock's words. 'day' in date_trunc('day', time) or 'File' cannot be.
 */
export function hasSettingsConstant(node: unknown): boolean {
  let found = false
  walk(node, (type, f) => {
    if (type !== 'A_Const' || found) return
    const text = (f.sval as { sval?: string } | undefined)?.sval
    if (text !== undefined && (/\d/.test(text) || /^\s*(now|today|tomorrow|yesterday)\s*$/i.test(text))) found = true
  })
  return found
}
