/**
 * Replies to statements whose result can depend on nothing but their own text: a SELECT list of
 * plain constants, with no FROM, function, operator or cast (`SELECT 1`, `SELECT 'ok' AS status`).
 *
 * Connection pools and tools send such a statement to check a connection before lending it
 * (pgbouncer's server_check_query, SQLAlchemy's pool_pre_ping, Grafana's health check), often once
 * for every query they run. The first time, it runs on the shadow catalog like any other statement
 * and its reply is kept; after that the kept reply is sent. Every answer is therefore the one
 * PostgreSQL gave; what is saved is the round trip to the shadow's thread, most of the statement's
 * time in the gateway.
 *
 * A reply is kept per text, result formats and the two settings that change how a literal is read
 * or sent back: standard_conforming_strings and client_encoding. Only complete, error-free replies
 * without notices are kept.
 */
import type { AstNode, ParsedStatement } from './sql-parse.js'
import type { Outcome } from './shadow-exchange.js'
import { BufferedResult } from './result.js'

const MAX_ENTRIES = 256
/** Longer statements are not kept (a health check is short; this bounds the memory). */
const MAX_TEXT = 1024

/** SelectStmt fields of a plain `SELECT <constants>`; any other field (FROM, LIMIT, …) disqualifies it. */
const PLAIN_SELECT = new Set(['targetList', 'limitOption', 'op'])

/** Whether `stmt` is a SELECT of plain constants only. */
export function isLiteralSelect(stmt: ParsedStatement): boolean {
  if (stmt.text.length > MAX_TEXT) return false
  const sel = stmt.node.SelectStmt as AstNode | undefined
  if (!sel || sel.op !== 'SETOP_NONE' || sel.limitOption !== 'LIMIT_OPTION_DEFAULT') return false
  for (const k of Object.keys(sel)) if (!PLAIN_SELECT.has(k)) return false
  const targets = sel.targetList as AstNode[] | undefined
  if (!targets?.length) return false
  return targets.every((t) => {
    const rt = t.ResTarget as AstNode | undefined
    const val = rt?.val as AstNode | undefined
    return rt !== undefined && val !== undefined && Object.keys(val).length === 1 && val.A_Const !== undefined && rt.indirection === undefined
  })
}

interface Kept {
  readonly rowDescription: Buffer | null
  readonly rows: readonly Buffer[]
  readonly tag: string
}

export class LiteralMemo {
  readonly #kept = new Map<string, Kept>()
  hits = 0

  static key(text: string, resultFormats: readonly number[], setting: (name: string) => string | undefined): string {
    return `${setting('standard_conforming_strings') ?? ''}\0${setting('client_encoding') ?? ''}\0${resultFormats.join(',')}\0${text}`
  }

  /** The kept reply, as a fresh result. */
  get(key: string): Outcome | undefined {
    const k = this.#kept.get(key)
    if (!k) return undefined
    this.hits++
    // Most recently used last, so that the oldest is the first in iteration order.
    this.#kept.delete(key)
    this.#kept.set(key, k)
    return { result: new BufferedResult(k.rowDescription, k.rows, k.tag), parameterStatus: [], error: null, paramDescription: null, emptyQuery: false }
  }

  /** Keeps `out` if it is a complete, clean reply. */
  put(key: string, out: Outcome): void {
    const r = out.result
    if (out.error || !r || r.notices.length > 0 || out.parameterStatus.length > 0 || !r.completeTag.startsWith('SELECT ')) return
    this.#kept.set(key, { rowDescription: r.rowDescription, rows: r.rows, tag: r.completeTag })
    if (this.#kept.size > MAX_ENTRIES) this.#kept.delete(this.#kept.keys().next().value!)
  }

  get size(): number {
    return this.#kept.size
  }
}
