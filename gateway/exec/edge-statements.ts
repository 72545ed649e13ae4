/**
 * What the gateway sends an edge for one statement: its batch of extended-protocol messages.
 * A statement is prepared under a name on each connection that runs it, so a statement sent
 * again is only bound and executed: the edge skips parsing, its guard and planning (PostgreSQL
 * keeps the plan). Names are the gateway's, one per SQL text and parameter types, never reused.
 */
import { FrontendEncoder, type FormatCode } from '../../common/pgwire/index.js'
import { kept } from '../../common/kept.js'

/** One statement as every shard of a fan-out asks its edges for it (shard-stream.ts). */
export interface EdgeRequest {
  readonly sql: string
  readonly paramTypes: readonly number[]
  readonly params: readonly (Buffer | null)[]
  readonly paramFormats: readonly number[]
  readonly resultFormats: readonly number[]
  /** Output settings for the session on the edge (TimeZone, DateStyle, ...). */
  readonly settings: readonly (readonly [string, string])[]
}

/** Statements one connection keeps prepared; the least recently used is closed beyond this. */
export const PREPARED_PER_CONNECTION = 64

/** The statements one edge connection keeps prepared, least recently used first. */
export class ConnectionStatements {
  readonly #names = new Set<string>()
  /** False once the edge refused a named statement (an edge agent of an older version). */
  named = true

  has(name: string): boolean {
    return this.#names.has(name)
  }

  /**
   * What running `name` ('' for the unnamed statement) takes: whether to parse it, and the
   * statements to close first to make room for it.
   */
  use(name: string): { parse: boolean; close: string[] } {
    if (name === '') return { parse: true, close: [] }
    if (this.#names.delete(name)) {
      this.#names.add(name) // most recently used last
      return { parse: false, close: [] }
    }
    const close: string[] = []
    for (const old of this.#names) {
      if (this.#names.size - close.length < PREPARED_PER_CONNECTION) break
      close.push(old)
    }
    for (const old of close) this.#names.delete(old)
    return { parse: true, close }
  }

  /** The edge completed the Parse of `name`. */
  parsed(name: string): void {
    this.#names.add(name)
  }

  /** `name` must be parsed again (the edge's tables changed under it). */
  forget(name: string): void {
    this.#names.delete(name)
  }

  /** The edge keeps no named statements: everything runs unnamed from now on. */
  disable(): void {
    this.named = false
    this.#names.clear()
  }
}
/** Names the gateway remembers; a statement forgotten here gets a new name when it comes again. */
const NAMES_KEPT = 10_000

/** Statements seen, by SQL and parameter types: their name, or null when seen only once. */
const names = new Map<string, string | null>()
let nextName = 0

/**
 * The name of a statement (its SQL and parameter types) on every connection, from the second
 * time it is sent: a statement sent once (one that read the clock carries its own timestamp) runs
 * unnamed, and takes no place among a connection's prepared statements.
 */
export function statementName(r: Pick<EdgeRequest, 'sql' | 'paramTypes'>): string {
  // Every shard of a fan-out asks for the same request: it is one sending.
  return kept(byRequest, r, () => nameOf(r))
}

const byRequest = new WeakMap<object, string>()

function nameOf(r: Pick<EdgeRequest, 'sql' | 'paramTypes'>): string {
  const key = r.paramTypes.length ? `${r.paramTypes.join(',')}\0${r.sql}` : r.sql
  const name = names.get(key)
  if (name) return name
  if (name === undefined) {
    if (names.size >= NAMES_KEPT) names.delete(names.keys().next().value!)
    names.set(key, null)
    return ''
  }
  const given = `fedgres_${(nextName++).toString(36)}`
  names.set(key, given)
  return given
}

export interface BatchOptions {
  /** Set the output settings first, transaction-local (an edge that did not confirm them). */
  readonly prelude: boolean
  /** The statement's name on the connection; '' for the unnamed statement. */
  readonly name: string
  /** The statement is not prepared on the connection yet: parse it (under `name`). */
  readonly parse: boolean
  /** Prepared statements to close first (the connection keeps too many). */
  readonly close: readonly string[]
}

/** Each request's batch for a connection that has it prepared (the usual case), shared by its shards. */
const preparedBatches = new WeakMap<object, Buffer>()
/**
 * One encoder for every batch: take() hands out a view of its slab and encodes the next batch
 * after it, so a batch costs no slab of its own (a new encoder allocated 4 KiB each time).
 * Batches are encoded whole, with no await, so they never interleave.
 */
const encoder = new FrontendEncoder()

export function encodeBatch(r: EdgeRequest, o: BatchOptions): Buffer {
  const usual = !o.prelude && !o.parse && o.close.length === 0
  if (usual) {
    const kept = preparedBatches.get(r)
    if (kept) return kept
  }
  const enc = encoder
  for (const name of o.close) enc.close('S', name)
  if (o.prelude && r.settings.length > 0) {
    // Setting names are literal (the edge's guard checks them); values travel as parameters.
    const sql = 'SELECT ' + r.settings.map(([n], i) => `pg_catalog.set_config('${n.replace(/'/g, "''")}', $${i + 1}, true)`).join(', ')
    const values = r.settings.map(([, v]) => Buffer.from(v))
    enc.parse('', sql, values.map(() => 25)).bind('', '', [], values, []).execute('', 0)
  }
  if (o.parse) enc.parse(o.name, r.sql, r.paramTypes)
  enc.bind('', o.name, r.paramFormats as FormatCode[], r.params, r.resultFormats as FormatCode[]).execute('', 0).sync()
  const bytes = enc.take()
  if (usual) preparedBatches.set(r, bytes)
  return bytes
}
