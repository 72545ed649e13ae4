/**
 * A session's settings, kept as the SET statements that made them, so that the shared shadow
 * catalog can be put in this session's state by replaying them (PostgreSQL itself checks and
 * formats every value; nothing here interprets one).
 *
 * Transactions follow PostgreSQL: a SET is undone by ROLLBACK (or ROLLBACK TO a savepoint taken
 * before it); SET LOCAL lasts until the end of the transaction; RESET returns to the value the
 * client gave at startup.
 */
import { quoteIdent, quoteLiteral } from '../../common/sql-quote.js'
import { isCustomSetting } from './placeholders.js'

interface Entry {
  /** Lower-case parameter name; the key for RESET and for replacing an earlier SET. */
  readonly name: string
  /** The statement that sets it, as it runs outside a transaction (LOCAL already removed). */
  readonly sql: string
  readonly local: boolean
  /** The value as given at startup (baseline entries), or by SET for GATEWAY_ONLY settings. */
  readonly value?: string
}


const sameEntries = (a: readonly Entry[], b: readonly Entry[]) => a.length === b.length && a.every((e, i) => e === b[i])

/** The latest entry for `name`. */
function lastOf(entries: readonly Entry[], name: string): Entry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.name === name) return entries[i]
  return undefined
}

/**
 * Settings the gateway keeps to itself, never replayed to the shared catalog engine: PGlite ends
 * (and then hangs) its one backend when idle_session_timeout or
 * idle_in_transaction_session_timeout runs out, or transaction_timeout: one client's setting
 * stopped catalog work for every session. The gateway enforces the idle ones itself (each
 * session's own connection); transaction_timeout is refused other than 0 (refusals.ts).
 */
export const GATEWAY_ONLY: ReadonlySet<string> = new Set(['idle_session_timeout', 'idle_in_transaction_session_timeout', 'transaction_timeout'])

/** StartupMessage parameters that are settings (the rest are connection options). */
const NOT_SETTINGS = new Set(['user', 'database', 'options', 'replication'])

export class SessionSettings {
  readonly #user: string
  readonly #baseline: Entry[] = []
  #entries: Entry[] = []
  #txnSnapshot: Entry[] | undefined
  readonly #savepoints: { name: string; entries: Entry[] }[] = []
  /**
   * The open transaction's modes (isolation level, DEFERRABLE), dropped at its end. Set by BEGIN
   * or SET TRANSACTION they are settings, undone by an error as PostgreSQL undoes them; carried
   * over by AND CHAIN (`kept`), an error leaves them.
   */
  readonly #modes = new Map<string, { readonly sql: string; readonly kept: boolean }>()
  /**
   * Custom settings (placeholders) this session has defined: by a startup value, SET, RESET or
   * set_config(). PostgreSQL keeps them for the rest of the session, whatever the transaction does.
   */
  readonly #defined = new Set<string>()
  /** Changes whenever the replayed state changes (the shadow's owner key includes it). */
  version = 0

  constructor(user: string, startupParams: ReadonlyMap<string, string>) {
    this.#user = user
    // Given as strings, as PostgreSQL takes startup values: a list (search_path=a,b) is read as one.
    const entry = (name: string, value: string): Entry => ({ name: name.toLowerCase(), sql: `SELECT pg_catalog.set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, false)`, local: false, value })
    // `options` first, as PostgreSQL applies them: a parameter the client names itself wins.
    for (const opt of parseOptions(startupParams.get('options') ?? '')) this.#baseline.push(entry(opt.name, opt.value))
    for (const [name, value] of startupParams) {
      if (NOT_SETTINGS.has(name)) continue
      this.#baseline.push(entry(name, value))
    }
    for (const e of this.#baseline) if (isCustomSetting(e.name)) this.#defined.add(e.name)
  }

  /** Notes that a statement of this session defined `name` (lower-case); true if it is a custom setting. */
  define(name: string): boolean {
    if (!isCustomSetting(name)) return false
    this.#defined.add(name)
    return true
  }

  /** Whether this session has defined the custom setting `name` (lower-case). */
  defines(name: string): boolean {
    return this.#defined.has(name)
  }

  /** Statements that put a fresh shadow session into this state. */
  setup(): string {
    const replayed = (e: Entry) => !GATEWAY_ONLY.has(e.name)
    const parts = [`SET ROLE ${quoteIdent(this.#user)}`, ...this.#baseline.filter(replayed).map((e) => e.sql), ...this.#entries.filter(replayed).map((e) => e.sql), ...[...this.#modes.values()].map((m) => m.sql)]
    return parts.join(';\n') + ';'
  }

  /** Every SET (and startup value) of these parameters, in order: what their values follow from. */
  historyOf(names: ReadonlySet<string>): string {
    let out = ''
    for (const e of this.#baseline) if (names.has(e.name)) out += e.sql + '\0'
    for (const e of this.#entries) if (names.has(e.name)) out += e.sql + '\0'
    return out
  }

  /** Every setting the client gave at startup, as [name, value]. */
  startupSettings(): [string, string][] {
    return this.#baseline.map((e) => [e.name, e.value ?? ''])
  }

  /** The value the client gave a parameter at startup (StartupMessage or its `options`), if any. */
  startupValue(name: string): string | undefined {
    return lastOf(this.#baseline, name)?.value
  }

  /** A setting's value as given, if its latest entry kept it (a startup value, a GATEWAY_ONLY SET); undefined otherwise. */
  ownValue(name: string): string | undefined {
    return (lastOf(this.#entries, name) ?? lastOf(this.#baseline, name))?.value
  }

  /**
   * The value a SET statement gave a parameter, as written (for search_path routing, and the
   * key of a kept reply: it runs for every constant SELECT, so it allocates nothing).
   */
  lastValueSql(name: string): string | undefined {
    return (lastOf(this.#entries, name) ?? lastOf(this.#baseline, name))?.sql
  }

  /**
   * Records a SET. Earlier SETs of the same parameter stay: some values build on the current one
   * (`SET DateStyle = 'Postgres'` keeps the current field order), so replay must go in order.
   */
  set(name: string, sql: string, local: boolean, value?: string): void {
    const last = this.#entries[this.#entries.length - 1]
    if (last && last.sql === sql && last.local === local) return
    this.#entries.push({ name, sql, local, value })
    if (this.#entries.length > 1000) this.#compact()
    this.version++
  }

  /** Keeps only the latest SET of each parameter (a client that SETs in a loop). */
  #compact(): void {
    const seen = new Set<string>()
    this.#entries = this.#entries.reverse().filter((e) => !seen.has(e.name) && seen.add(e.name)).reverse()
  }

  reset(name: string): void {
    this.#entries = this.#entries.filter((e) => e.name !== name)
    this.version++
  }

  resetAll(): void {
    this.#entries = []
    this.version++
  }

  begin(): void {
    this.#txnSnapshot = [...this.#entries]
    this.#savepoints.length = 0
    this.#modes.clear()
  }

  /** A transaction mode (as the SET of its default) for the rest of the open transaction. */
  setMode(name: string, sql: string, kept = false): void {
    this.#modes.set(name, { sql, kept })
    this.version++
  }

  commit(): void {
    const changed = this.#modes.size > 0 || this.#entries.some((e) => e.local)
    if (changed) this.#entries = this.#entries.filter((e) => !e.local)
    this.#end(changed)
  }

  rollback(): void {
    const back = this.#txnSnapshot
    const changed = this.#modes.size > 0 || (back !== undefined && !sameEntries(back, this.#entries))
    if (back && changed) this.#entries = back
    this.#end(changed)
  }

  /**
   * The end of a transaction, explicit or implicit (every extended-protocol Sync ends one): the
   * version, which the shadow's owner key and ParameterStatus follow, moves only on a change.
   */
  #end(changed: boolean): void {
    this.#txnSnapshot = undefined
    this.#savepoints.length = 0
    this.#modes.clear()
    if (changed) this.version++
  }

  /**
   * An error aborts the transaction (or the savepoint's subtransaction): PostgreSQL undoes its
   * settings then, not at ROLLBACK, and tells the client before ReadyForQuery.
   */
  abort(): void {
    const back = this.#savepoints[this.#savepoints.length - 1]?.entries ?? this.#txnSnapshot
    if (!back) return
    let changed = !sameEntries(back, this.#entries)
    this.#entries = [...back]
    if (this.#savepoints.length === 0) {
      for (const [name, m] of this.#modes) {
        if (m.kept) continue
        this.#modes.delete(name)
        changed = true
      }
    }
    if (changed) this.version++
  }

  /** Savepoints open in the transaction (0: not in a subtransaction). */
  get savepointDepth(): number {
    return this.#savepoints.length
  }

  savepoint(name: string): void {
    this.#savepoints.push({ name, entries: [...this.#entries] })
  }

  /** ROLLBACK TO: settings return to the savepoint's; it stays. Its depth (0 the first), -1 if there is no such savepoint. */
  rollbackTo(name: string): number {
    const i = this.#findSavepoint(name)
    if (i < 0) return -1
    this.#entries = [...this.#savepoints[i]!.entries]
    this.#savepoints.length = i + 1
    this.version++
    return i
  }

  /** RELEASE: drops the savepoint and those after it. Its depth, -1 if there is no such savepoint. */
  release(name: string): number {
    const i = this.#findSavepoint(name)
    if (i < 0) return -1
    this.#savepoints.length = i
    return i
  }

  #findSavepoint(name: string): number {
    for (let i = this.#savepoints.length - 1; i >= 0; i--) if (this.#savepoints[i]!.name === name) return i
    return -1
  }
}

/** The `-c name=value` (or `--name=value`) settings in a startup `options` string. */
export function parseOptions(options: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = []
  // Words are separated by spaces; a backslash escapes the next character (libpq's rule).
  const words: string[] = []
  let cur = ''
  let escaped = false
  for (const ch of options) {
    if (escaped) {
      cur += ch
      escaped = false
    } else if (ch === '\\') escaped = true
    else if (ch === ' ') {
      if (cur) words.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur) words.push(cur)
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!
    if (w === '-c') w = words[++i] ?? ''
    else if (w.startsWith('-c')) w = w.slice(2)
    else if (w.startsWith('--')) w = w.slice(2)
    else continue
    const eq = w.indexOf('=')
    if (eq > 0) out.push({ name: w.slice(0, eq).replace(/-/g, '_'), value: w.slice(eq + 1) })
  }
  return out
}
