/**
 * COPY ... TO STDOUT: a query's rows in COPY's text, CSV or binary format, byte for byte as
 * PostgreSQL's COPY writes them (copyto.c: CopyAttributeOutText, CopyAttributeOutCSV). psql's
 * \copy and the drivers' COPY APIs read this. The values themselves are the types' own text (or
 * binary) output, which the rows already carry: only the escaping and framing are COPY's.
 * @see https://www.postgresql.org/docs/current/sql-copy.html
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { CopyOptions } from './copy-options.js'

const TEXT_ESCAPES: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' }

/** One value in text format: backslash escapes for the delimiter, backslash and \b\f\n\r\t\v. */
function textValue(v: string, delimiter: string): string {
  let out = ''
  for (const c of v) out += TEXT_ESCAPES[c] ?? (c === delimiter ? '\\' + c : c)
  return out
}

/** One value in CSV: quoted when it holds the delimiter, the quote, CR or LF, equals the NULL string, or is forced. */
function csvValue(v: string, o: CopyOptions, force: boolean, only: boolean): string {
  const needs = force || v === o.null || v.includes(o.delimiter) || v.includes(o.quote) || /[\r\n]/.test(v) || (only && v === '\\.')
  if (!needs) return v
  let out = o.quote
  for (const c of v) out += c === o.quote || c === o.escape ? o.escape + c : c
  return out + o.quote
}

/** Formats rows (field texts) as COPY lines, each ending in a newline. */
export class CopyWriter {
  readonly #force: boolean[]

  constructor(
    readonly o: CopyOptions,
    readonly columns: readonly string[],
  ) {
    this.#force = columns.map(() => o.forceQuote === true)
    if (o.forceQuote === true) return
    // As PostgreSQL's CopyGetAttnums: a name is the first column so called, and names one column once.
    for (const c of o.forceQuote) {
      const i = columns.indexOf(c)
      if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${c}" does not exist`)
      if (this.#force[i]) throw new PgError(SqlState.DuplicateColumn, `column "${c}" specified more than once`)
      this.#force[i] = true
    }
  }

  header(): string {
    return this.line(this.columns, true)
  }

  line(values: readonly (string | null)[], header = false): string {
    const o = this.o
    const only = values.length === 1
    const parts = values.map((v, i) => {
      if (v === null) return o.null
      if (o.format === 'csv') return csvValue(v, o, !header && this.#force[i]!, only)
      return textValue(v, o.delimiter)
    })
    return parts.join(o.delimiter) + '\n'
  }
}

/** Binary COPY's header: signature, flags, header extension length. */
export const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)])
/** Binary COPY's trailer: a field count of -1. */
export const BINARY_TRAILER = Buffer.from([0xff, 0xff])
