/**
 * COPY ... TO STDOUT: a query's rows in COPY's text, CSV or binary format, byte for byte as
 * PostgreSQL's COPY writes them (copyto.c: CopyAttributeOutText, CopyAttributeOutCSV). psql's
 * \copy and the drivers' COPY APIs read this. The values themselves are the types' own text (or
 * binary) output, which the rows already carry: only the escaping and framing are COPY's.
 * @see https://www.postgresql.org/docs/current/sql-copy.html
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { AstNode } from './sql-parse.js'

export interface CopyOptions {
  readonly format: 'text' | 'csv' | 'binary'
  readonly delimiter: string
  readonly null: string
  readonly header: boolean
  readonly quote: string
  readonly escape: string
  /** Columns always quoted (CSV): names, or true for all. */
  readonly forceQuote: true | readonly string[]
}

const syntax = (m: string) => new PgError(SqlState.SyntaxError, m)
const invalid = (m: string) => new PgError(SqlState.FeatureNotSupported, m)

/** The options of a CopyStmt (`WITH (FORMAT csv, HEADER)` and the older `CSV HEADER` alike). */
export function copyOptions(options: readonly AstNode[] | undefined): CopyOptions {
  const o: { -readonly [K in keyof CopyOptions]?: CopyOptions[K] } = {}
  for (const w of options ?? []) {
    const d = w.DefElem as AstNode
    const name = String(d.defname)
    const arg = d.arg as AstNode | undefined
    const str = (): string => {
      const v = (arg?.String as AstNode | undefined)?.sval ?? (arg?.A_Const as AstNode | undefined)?.sval
      return typeof v === 'object' && v !== null ? String((v as AstNode).sval ?? '') : String(v ?? '')
    }
    const bool = (): boolean => {
      if (!arg) return true
      const s = str().toLowerCase()
      const b = (arg.Boolean as AstNode | undefined)?.boolval ?? (arg.Integer ? Number((arg.Integer as AstNode).ival ?? 0) !== 0 : undefined)
      if (b !== undefined) return Boolean(b)
      if (['true', 'on', '1', 'yes'].includes(s)) return true
      if (['false', 'off', '0', 'no'].includes(s)) return false
      throw syntax(`${name} requires a Boolean value`)
    }
    if (o[name as keyof CopyOptions] !== undefined) throw syntax('conflicting or redundant options')
    switch (name) {
      case 'format': {
        const f = str().toLowerCase()
        if (f !== 'text' && f !== 'csv' && f !== 'binary') throw new PgError(SqlState.InvalidParameterValue, `COPY format "${f}" not recognized`)
        o.format = f
        break
      }
      case 'delimiter':
        o.delimiter = str()
        break
      case 'null':
        o.null = str()
        break
      case 'header':
        if (arg && str().toLowerCase() === 'match') throw invalid('HEADER MATCH is only for COPY FROM')
        o.header = bool()
        break
      case 'quote':
        o.quote = str()
        break
      case 'escape':
        o.escape = str()
        break
      case 'force_quote':
        o.forceQuote = arg && !arg.A_Star ? ((arg.List as AstNode | undefined)?.items as AstNode[] | undefined ?? []).map((i) => String((i.String as AstNode).sval)) : true
        break
      case 'encoding':
        if (!/^(utf8|utf-8|unicode)$/i.test(str())) throw invalid('COPY ENCODING other than UTF8 is not supported by Fedgres')
        break
      default:
        throw invalid(`COPY option "${name}" is not supported by Fedgres`)
    }
  }
  const format = o.format ?? 'text'
  const csv = format === 'csv'
  if (format === 'binary' && (o.delimiter !== undefined || o.null !== undefined || o.header)) throw syntax('cannot specify DELIMITER, NULL or HEADER in BINARY mode')
  if (!csv && (o.quote !== undefined || o.escape !== undefined || o.forceQuote !== undefined)) throw new PgError(SqlState.FeatureNotSupported, 'COPY QUOTE, ESCAPE and FORCE_QUOTE are available only in CSV mode')
  const delimiter = o.delimiter ?? (csv ? ',' : '\t')
  const quote = o.quote ?? '"'
  if (delimiter.length !== 1) throw new PgError(SqlState.FeatureNotSupported, 'COPY delimiter must be a single one-byte character')
  if (quote.length !== 1 || (o.escape !== undefined && o.escape.length !== 1)) throw new PgError(SqlState.FeatureNotSupported, 'COPY quote and escape must be a single one-byte character')
  if (/[\r\n]/.test(delimiter) || (!csv && /[\\.a-z0-9]/i.test(delimiter))) throw new PgError(SqlState.FeatureNotSupported, `COPY delimiter cannot be "${delimiter}"`)
  return { format, delimiter, null: o.null ?? (csv ? '' : '\\N'), header: o.header ?? false, quote, escape: o.escape ?? quote, forceQuote: o.forceQuote ?? [] }
}

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
    if (o.forceQuote !== true) for (const c of o.forceQuote) if (!columns.includes(c)) throw new PgError(SqlState.UndefinedColumn, `column "${c}" does not exist`)
    this.#force = columns.map((c) => o.forceQuote === true || (o.forceQuote as readonly string[]).includes(c))
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
