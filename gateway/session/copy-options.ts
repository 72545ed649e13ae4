/**
 * The options of COPY ... TO, checked as PostgreSQL 18 checks them (copy.c, ProcessCopyOptions):
 * in its order, with its codes and messages. A check left out wrote files no reader could
 * take apart: a NULL string holding the delimiter (`null 'N,A'` made three fields of two), a
 * delimiter equal to the quote, a NULL string across two lines.
 * @see https://www.postgresql.org/docs/current/sql-copy.html
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { cleanEncodingName, KNOWN_ENCODINGS } from '../../common/encoding-conversion.js'
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
const unsupported = (m: string) => new PgError(SqlState.FeatureNotSupported, m)
const invalid = (m: string) => new PgError(SqlState.InvalidParameterValue, m)
const bytes = (s: string) => Buffer.byteLength(s)
const notForCopyTo = (option: string) => invalid(`COPY ${option} cannot be used with COPY TO`)

/** Options as given, before defaults. */
interface Given {
  format?: 'text' | 'csv' | 'binary'
  delimiter?: string
  null?: string
  default?: string
  header?: boolean
  quote?: string
  escape?: string
  forceQuote?: true | string[]
  forceNotNull?: boolean
  forceNull?: boolean
  freeze?: boolean
  onError?: boolean
  rejectLimit?: boolean
  logVerbosity?: string
  encoding?: string
}

/** The options of a CopyStmt (`WITH (FORMAT csv, HEADER)` and the older `CSV HEADER` alike). */
export function copyOptions(options: readonly AstNode[] | undefined): CopyOptions {
  const o = given(options)
  const binary = o.format === 'binary'
  const csv = o.format === 'csv'
  if (binary && o.delimiter !== undefined) throw syntax('cannot specify DELIMITER in BINARY mode')
  if (binary && o.null !== undefined) throw syntax('cannot specify NULL in BINARY mode')
  if (binary && o.default !== undefined) throw syntax('cannot specify DEFAULT in BINARY mode')
  const delimiter = o.delimiter ?? (csv ? ',' : '\t')
  const nullText = o.null ?? (csv ? '' : '\\N')
  const quote = o.quote ?? (csv ? '"' : undefined)
  const escape = o.escape ?? quote
  if (bytes(delimiter) !== 1) throw unsupported('COPY delimiter must be a single one-byte character')
  if (/[\r\n]/.test(delimiter)) throw invalid('COPY delimiter cannot be newline or carriage return')
  if (/[\r\n]/.test(nullText)) throw invalid('COPY null representation cannot use newline or carriage return')
  if (o.default !== undefined && /[\r\n]/.test(o.default)) throw invalid('COPY default representation cannot use newline or carriage return')
  // Not lower-case letters or digits, as PostgreSQL (upper case is allowed).
  if (!csv && '\\.abcdefghijklmnopqrstuvwxyz0123456789'.includes(delimiter)) throw invalid(`COPY delimiter cannot be "${delimiter}"`)
  if (binary && o.header) throw unsupported('cannot specify HEADER in BINARY mode')
  if (!csv && o.quote !== undefined) throw unsupported('COPY QUOTE requires CSV mode')
  if (csv && bytes(quote!) !== 1) throw unsupported('COPY quote must be a single one-byte character')
  if (csv && delimiter === quote) throw invalid('COPY delimiter and quote must be different')
  if (!csv && o.escape !== undefined) throw unsupported('COPY ESCAPE requires CSV mode')
  if (csv && bytes(escape!) !== 1) throw unsupported('COPY escape must be a single one-byte character')
  if (!csv && o.forceQuote !== undefined) throw unsupported('COPY FORCE_QUOTE requires CSV mode')
  if (o.forceNotNull !== undefined) throw csv ? notForCopyTo('FORCE_NOT_NULL') : unsupported('COPY FORCE_NOT_NULL requires CSV mode')
  if (o.forceNull !== undefined) throw csv ? notForCopyTo('FORCE_NULL') : unsupported('COPY FORCE_NULL requires CSV mode')
  if (nullText.includes(delimiter)) throw invalid('COPY delimiter character must not appear in the NULL specification')
  if (csv && nullText.includes(quote!)) throw invalid('CSV quote character must not appear in the NULL specification')
  if (o.freeze) throw notForCopyTo('FREEZE')
  if (o.default !== undefined) throw unsupported('COPY DEFAULT cannot be used with COPY TO')
  if (o.rejectLimit) throw invalid('COPY REJECT_LIMIT requires ON_ERROR to be set to IGNORE')
  if (o.encoding !== undefined && !['utf8', 'unicode'].includes(cleanEncodingName(o.encoding))) throw unsupported('COPY ENCODING other than UTF8 is not supported by Fedgres')
  return { format: o.format ?? 'text', delimiter, null: nullText, header: o.header ?? false, quote: quote ?? '"', escape: escape ?? '"', forceQuote: o.forceQuote ?? [] }
}

/** A COPY's column list as PostgreSQL checks it: each column once; FORCE_QUOTE names only listed ones. */
export function copyColumnsCheck(names: readonly string[], options: CopyOptions): void {
  const twice = names.find((n, i) => names.indexOf(n) !== i)
  if (twice !== undefined) throw new PgError(SqlState.DuplicateColumn, `column "${twice}" specified more than once`)
  const unlisted = names.length > 0 && options.forceQuote !== true ? options.forceQuote.find((c) => !names.includes(c)) : undefined
  if (unlisted !== undefined) throw new PgError(SqlState.InvalidColumnReference, `FORCE_QUOTE column "${unlisted}" not referenced by COPY`)
}

/** The options PostgreSQL 18's COPY knows (each checked below for COPY TO). */
const OPTIONS: ReadonlySet<string> = new Set(['format', 'freeze', 'delimiter', 'null', 'default', 'header', 'quote', 'escape', 'force_quote', 'force_not_null', 'force_null', 'encoding', 'on_error', 'reject_limit', 'log_verbosity'])

/** Reads the option list, refusing what PostgreSQL refuses while reading it. */
function given(options: readonly AstNode[] | undefined): Given {
  const o: Given = {}
  const seen = new Set<string>()
  for (const w of options ?? []) {
    const d = w.DefElem as AstNode
    const name = String(d.defname)
    const arg = d.arg as AstNode | undefined
    const str = (): string => {
      const v = (arg?.String as AstNode | undefined)?.sval ?? (arg?.A_Const as AstNode | undefined)?.sval ?? (arg?.Integer as AstNode | undefined)?.ival
      return typeof v === 'object' && v !== null ? String((v as AstNode).sval ?? '') : String(v ?? '')
    }
    /** A Boolean as defGetBoolean reads it: true, false, on, off, 1, 0 (as numbers too), or no value. */
    const bool = (error = `${name} requires a Boolean value`): boolean => {
      if (!arg) return true
      if (arg.Boolean) return Boolean((arg.Boolean as AstNode).boolval)
      const s = arg.Integer ? String((arg.Integer as AstNode).ival ?? 0) : str().toLowerCase()
      if (['true', 'on', '1', 'yes'].includes(s)) return true
      if (['false', 'off', '0', 'no'].includes(s)) return false
      throw syntax(error)
    }
    const columns = (): true | string[] => {
      if (arg?.A_Star) return true
      const items = (arg?.List as AstNode | undefined)?.items as AstNode[] | undefined
      if (!items) throw invalid(`argument to option "${name}" must be a list of column names`)
      return items.map((i) => String((i.String as AstNode).sval))
    }
    if (!OPTIONS.has(name)) throw syntax(`option "${name}" not recognized`)
    if (seen.has(name)) throw syntax('conflicting or redundant options')
    seen.add(name)
    switch (name) {
      case 'format': {
        const f = str().toLowerCase()
        if (f !== 'text' && f !== 'csv' && f !== 'binary') throw invalid(`COPY format "${f}" not recognized`)
        o.format = f
        break
      }
      case 'freeze':
        o.freeze = bool()
        break
      case 'delimiter':
        o.delimiter = str()
        break
      case 'null':
        o.null = str()
        break
      case 'default':
        o.default = str()
        break
      case 'header':
        if (arg && str().toLowerCase() === 'match') throw unsupported(`cannot use "${str()}" with HEADER in COPY TO`)
        o.header = bool(`header requires a Boolean value or "match"`)
        break
      case 'quote':
        o.quote = str()
        break
      case 'escape':
        o.escape = str()
        break
      case 'force_quote':
        o.forceQuote = columns()
        break
      case 'force_not_null':
        o.forceNotNull = columns() !== undefined
        break
      case 'force_null':
        o.forceNull = columns() !== undefined
        break
      case 'encoding':
        if (!KNOWN_ENCODINGS.has(cleanEncodingName(str()))) throw invalid('argument to option "encoding" must be a valid encoding name')
        o.encoding = str()
        break
      case 'on_error':
        throw notForCopyTo('ON_ERROR')
      case 'reject_limit':
        o.rejectLimit = true
        break
      case 'log_verbosity': {
        const v = str().toLowerCase()
        if (!['default', 'verbose', 'silent'].includes(v)) throw invalid(`COPY LOG_VERBOSITY "${str()}" not recognized`)
        o.logVerbosity = v
        break
      }
    }
  }
  return o
}
