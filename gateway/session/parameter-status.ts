/**
 * ParameterStatus: the reported parameters (client_encoding, DateStyle, search_path, ...) the
 * client is told, at startup and then just before ReadyForQuery whenever one changed, as
 * PostgreSQL does. Values come from the shadow in the session's state, so PostgreSQL itself
 * formats them; nothing is read when no setting changed.
 */
import type { Responder } from '../../common/pgwire/server/responder.js'
import { FrameError } from './frame-error.js'
import type { Session } from './session.js'
import { rowTexts } from './shadow-exchange.js'

export class ParameterReports {
  readonly #s: Session
  /** Values of the reported parameters the client has been told (ParameterStatus). */
  readonly #reported = new Map<string, string>()
  #reportedVersion = -1
  /** The SETs of the reported parameters when they were last reported. */
  #reportedKey: string | undefined
  #reportedNames: Set<string> | undefined
  /** Their values by their SETs (a few states: an error returns to one seen before). */
  readonly #valuesByKey = new Map<string, (string | null)[]>()

  constructor(s: Session) {
    this.#s = s
  }

  /** Sends ParameterStatus for every reported parameter whose value changed. */
  async reportChanges(out: Responder): Promise<void> {
    const s = this.#s
    if (this.#reportedVersion === s.settings.version) return
    const names = s.deps.shadow.parameters.map(([n]) => n)
    // The reported parameters' values follow from their SETs alone: nothing is read for SETs
    // already seen (none changed, or an error undid them), so a cancelled statement's error
    // answers at once, without waiting for the catalog engine it left busy.
    this.#reportedNames ??= new Set(names.map((n) => n.toLowerCase()))
    const key = s.settings.historyOf(this.#reportedNames)
    if (key === this.#reportedKey) {
      this.#reportedVersion = s.settings.version
      return
    }
    const version = s.settings.version
    let values = this.#valuesByKey.get(key)
    if (!values) {
      const sql = `SELECT ${names.map((n) => `pg_catalog.current_setting('${n.replace(/'/g, "''")}')`).join(', ')}`
      const outcome = await s.runner.simple(s.owner(), sql)
      if (outcome.error) throw new FrameError(outcome.error)
      values = outcome.result?.rows[0] ? rowTexts(outcome.result.rows[0]) : []
      if (this.#valuesByKey.size >= 8) this.#valuesByKey.delete(this.#valuesByKey.keys().next().value!)
      this.#valuesByKey.set(key, values)
    }
    names.forEach((name, i) => {
      let value = values[i] ?? ''
      if (name === 'session_authorization') value = s.ctx.user
      if (name === 'is_superuser') value = 'off'
      if (this.#reported.get(name) === value) return
      this.#reported.set(name, value)
      if (name === 'search_path') s.updateSearchPath(value)
      if (name === 'application_name') s.activity.applicationName = value
      out.enc.parameterStatus(name, value)
    })
    this.#reportedVersion = version
    this.#reportedKey = key
  }
}
