/**
 * The settings a gateway opens an edge connection with. A gateway sends its client's output
 * settings (TimeZone, DateStyle, ...) in the startup packet, as any PostgreSQL client may; the
 * edge checks them once, reports them in ParameterStatus as PostgreSQL does, and sets them in
 * each batch's transaction (the store is shared, so nothing is set beyond a batch).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { quoteLiteral } from '../../common/sql-quote.js'
import type { EdgeStore } from '../store/edge-store.js'
import { LOCAL_SETTINGS } from './guard.js'

export type Settings = readonly (readonly [string, string])[]

/** Reported settings, by lower-case name, with the name PostgreSQL reports them under. */
const REPORTED_NAME: Readonly<Record<string, string>> = { timezone: 'TimeZone', datestyle: 'DateStyle', intervalstyle: 'IntervalStyle' }

/** The startup parameters that are settings an edge takes; the rest are not settings here. */
export function startupSettings(params: ReadonlyMap<string, string>): Settings {
  return [...params].filter(([name]) => LOCAL_SETTINGS.has(name.toLowerCase()))
}

/**
 * The statement that sets `settings` for the current transaction; its columns s0, s1, ... are
 * the values as set. Names and values are literals: a value is as PostgreSQL would take it in
 * the startup packet, and the statement is built once per connection.
 */
export function settingsSql(settings: Settings): string {
  return `SELECT ${settings.map(([n, v], i) => `pg_catalog.set_config(${quoteLiteral(n)}, ${quoteLiteral(v)}, true) AS s${i}`).join(', ')}`
}

/** Distinct settings lists remembered once checked: a gateway opens its connections with few. */
const REMEMBERED = 256

/**
 * Checks `settings` on the store and returns them as PostgreSQL normalises them ('iso, dmy'
 * becomes 'ISO, DMY'). An invalid value is 22023, as PostgreSQL refuses it at startup.
 *
 * A list checked once is remembered: the check runs under the store's mutex, so behind a long
 * statement every new connection waited for it, and a gateway gave up connecting after its
 * connect timeout ("could not connect to edge") while the edge was only busy. Now a new
 * connection is up at once and its statement waits its turn, as any statement does.
 */
export class SettingsChecker {
  /** By list: its check, done or under way (a gateway opening many connections at once asks once). */
  readonly #checked = new Map<string, Promise<Settings>>()

  constructor(private readonly store: EdgeStore) {}

  check(settings: Settings): Promise<Settings> {
    if (settings.length === 0) return Promise.resolve([])
    const key = JSON.stringify(settings)
    let checked = this.#checked.get(key)
    if (!checked) {
      if (this.#checked.size >= REMEMBERED) this.#checked.delete(this.#checked.keys().next().value!)
      checked = this.#run(settings)
      this.#checked.set(key, checked)
      // A refused list is not remembered: each connection with it is refused by its own check.
      checked.catch(() => this.#checked.delete(key))
    }
    return checked
  }

  async #run(settings: Settings): Promise<Settings> {
    let row: Record<string, string> | undefined
    try {
      ;[row] = await this.store.query<Record<string, string>>(settingsSql(settings))
    } catch (e) {
      throw new PgError(SqlState.InvalidParameterValue, (e as Error).message)
    }
    return settings.map(([name], i) => [name, row?.[`s${i}`] ?? ''] as const)
  }
}

/** The ParameterStatus list: the edge's own values, with those the connection set in their place. */
export function reportedParameters(base: Settings, settings: Settings): Settings {
  const set = new Map(settings.flatMap(([n, v]) => (REPORTED_NAME[n.toLowerCase()] ? [[REPORTED_NAME[n.toLowerCase()]!, v] as const] : [])))
  return base.map(([n, v]) => [n, set.get(n) ?? v] as const)
}
