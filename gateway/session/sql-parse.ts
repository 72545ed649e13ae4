/**
 * SQL parsing with PostgreSQL's own parser (libpg-query, compiled to WebAssembly): every
 * statement is split, classified and, where needed, deparsed from its syntax tree.
 */
import { loadModule, parseSync } from 'libpg-query'
import { deparseSql } from '../../common/sql-deparse.js'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { visit, type AstNode } from '../../common/pg-ast.js'
import { parseErrorCode } from './parse-error-codes.js'

/** A node of libpg-query's JSON syntax tree: `{ NodeType: { ...fields } }`. */
export type { AstNode }

export interface ParsedStatement {
  /** The statement node, e.g. `{ SelectStmt: {...} }`. */
  readonly node: AstNode
  /** Its node type, e.g. `SelectStmt`. */
  readonly type: string
  /** The statement's own text, sliced from the query string (trailing `;` excluded). */
  readonly text: string
  /** Characters before `text` in the query string: an error's position in `text` plus this is its position there. */
  readonly offset: number
}

let loaded: Promise<void> | undefined
export const loadParser = () => (loaded ??= loadModule())

interface RawParse {
  stmts?: { stmt: AstNode; stmt_location?: number; stmt_len?: number }[]
}

/**
 * Parsed query strings, most recently used last. Clients repeat their statements (drivers'
 * prepared statements, dashboards, pollers), and parsing is a quarter of a point query's CPU in
 * the gateway. The trees are frozen: whoever needs a changed tree builds a new one. Long
 * statements are kept too, within a budget of text: a dashboard's filter of 10,000 values is a
 * 150 KB statement whose parse and analysis took about 10 ms of its 34 ms at the gateway.
 */
const CACHE_ENTRIES = 512
const CACHE_MAX_SQL = 512 * 1024
const CACHE_BUDGET = 4 * 1024 * 1024
const cache = new Map<string, readonly ParsedStatement[]>()
let cachedChars = 0

/**
 * Splits and parses a query string. A syntax error is 42601 with PostgreSQL's message and the
 * 1-based position PostgreSQL reports.
 */
export function parseStatements(sql: string): ParsedStatement[] {
  const hit = cache.get(sql)
  if (hit) {
    cache.delete(sql)
    cache.set(sql, hit)
    return [...hit]
  }
  const stmts = parseUncached(sql)
  if (sql.length <= CACHE_MAX_SQL) {
    while (cache.size > 0 && (cache.size >= CACHE_ENTRIES || cachedChars + sql.length > CACHE_BUDGET)) {
      const oldest = cache.keys().next().value!
      cache.delete(oldest)
      cachedChars -= oldest.length
    }
    cache.set(sql, stmts.map((s) => deepFreeze(s)))
    cachedChars += sql.length
  }
  return stmts
}

function deepFreeze<T>(o: T): T {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o)) return o
  for (const k in o) deepFreeze((o as Record<string, unknown>)[k])
  return Object.freeze(o)
}

function parseUncached(sql: string): ParsedStatement[] {
  if (sql.trim() === '') return [] // libpg-query refuses an empty string; PostgreSQL answers EmptyQueryResponse
  let res: RawParse
  try {
    res = parseSync(sql) as RawParse
  } catch (e) {
    const err = e as Error & { sqlDetails?: { cursorPosition?: number; message?: string; fileName?: string } }
    const pos = err.sqlDetails?.cursorPosition
    const message = err.sqlDetails?.message ?? err.message
    throw new PgError(parseErrorCode(err.sqlDetails?.fileName, message), message, { position: pos === undefined ? undefined : charPosition(sql, pos) + 1 })
  }
  const bytes = Buffer.from(sql, 'utf8')
  return (res.stmts ?? []).map((s) => {
    // stmt_location and stmt_len count bytes of the UTF-8 query string.
    const start = s.stmt_location ?? 0
    const end = s.stmt_len ? start + s.stmt_len : bytes.length
    const type = Object.keys(s.stmt)[0]!
    const raw = bytes.toString('utf8', start, end)
    const text = raw.trim()
    const offset = (start === 0 ? 0 : bytes.toString('utf8', 0, start).length) + raw.length - raw.trimStart().length
    return sessionUserAsCurrent(s.stmt) ? { node: s.stmt, type, text: deparseSql({ stmts: [{ stmt: s.stmt }] } as never), offset } : { node: s.stmt, type, text, offset }
  })
}

/**
 * SESSION_USER made CURRENT_USER, in place (the tree is new); true if there was one. The shadow's
 * sessions run as one role that switches to each client's (SET ROLE), so there SESSION_USER
 * names that role. A client never changes identity (SET ROLE and SESSION AUTHORIZATION only to
 * itself), so its session user is always its current user, as PostgreSQL would report it.
 */
function sessionUserAsCurrent(stmt: AstNode): boolean {
  let found = false
  visit(stmt, (type, f) => {
    // An output column keeps its name.
    const val = type === 'ResTarget' ? (f.val as AstNode | undefined)?.SQLValueFunction : undefined
    if (val && (val as AstNode).op === 'SVFOP_SESSION_USER' && f.name === undefined) f.name = 'session_user'
    if (type === 'SQLValueFunction' && f.op === 'SVFOP_SESSION_USER') {
      f.op = 'SVFOP_CURRENT_USER'
      found = true
    }
  })
  return found
}

/** libpg-query positions are byte offsets; PostgreSQL reports character positions. */
function charPosition(sql: string, byteOffset: number): number {
  return Buffer.from(sql, 'utf8').subarray(0, byteOffset).toString('utf8').length
}

/** Visits every node of a tree (objects and arrays), depth first. */
export { visit as walk } from '../../common/pg-ast.js'

/** The string value of an A_Const / String node, if it is one. */
export function constString(node: unknown): string | undefined {
  const n = node as { A_Const?: { sval?: { sval?: string } }; String?: { sval?: string } } | undefined
  return n?.A_Const?.sval?.sval ?? n?.String?.sval
}
