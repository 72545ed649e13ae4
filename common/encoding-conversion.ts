/**
 * Encoding conversions the PGlite engines survive. PGlite (the edges' store and the gateway's
 * catalog engine) has only UTF8 and SQL_ASCII as working targets: convert_to('é', 'LATIN1'), or
 * convert_from of valid EUC_JP bytes, never returned, its WebAssembly spinning, and a conversion
 * error recursed in error reporting (ERRORDATA_STACK_SIZE exceeded) until the engine was lost for
 * every session, or, on an edge, for its store. Of the sources, only UTF8, SQL_ASCII and LATIN1
 * convert (every byte of LATIN1 was checked). So a statement converts only between those, with
 * encoding names written as constants, and anything else is refused (0A000) before it runs.
 * Shared by the gateway (every statement) and the edge (its statement guard).
 */
import { PgError } from './errors/pg-error.js'
import { SqlState } from './errors/sqlstate.js'
import { catalogFunctionName, visit, type AstNode } from './pg-ast.js'

/** PostgreSQL compares encoding names case-insensitively, ignoring all but letters and digits (encnames.c). */
export const cleanEncodingName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '')

/** The names PostgreSQL knows (encnames.c); one not listed is left for the engine to reject (22023). */
export const KNOWN_ENCODINGS: ReadonlySet<string> = new Set([
  'abc', 'alt', 'big5', 'euccn', 'eucjis2004', 'eucjp', 'euckr', 'euctw', 'gb18030', 'gbk', 'iso88591', 'iso885910', 'iso885913', 'iso885914',
  'iso885915', 'iso885916', 'iso88592', 'iso88593', 'iso88594', 'iso88595', 'iso88596', 'iso88597', 'iso88598', 'iso88599', 'johab', 'koi8',
  'koi8r', 'koi8u', 'latin1', 'latin10', 'latin2', 'latin3', 'latin4', 'latin5', 'latin6', 'latin7', 'latin8', 'latin9', 'mskanji',
  'muleinternal', 'shiftjis', 'shiftjis2004', 'sjis', 'sqlascii', 'tcvn', 'tcvn5712', 'uhc', 'unicode', 'utf8', 'vscii', 'win', 'win1250',
  'win1251', 'win1252', 'win1253', 'win1254', 'win1255', 'win1256', 'win1257', 'win1258', 'win866', 'win874', 'win932', 'win936', 'win949',
  'win950', 'windows1250', 'windows1251', 'windows1252', 'windows1253', 'windows1254', 'windows1255', 'windows1256', 'windows1257',
  'windows1258', 'windows866', 'windows874', 'windows932', 'windows936', 'windows949', 'windows950',
])

export const SERVER_LIKE_ENCODINGS: ReadonlySet<string> = new Set(['utf8', 'unicode', 'sqlascii'])
const SAFE_SOURCES: ReadonlySet<string> = new Set([...SERVER_LIKE_ENCODINGS, 'latin1', 'iso88591'])

/** Which arguments of each conversion function name a source and a target encoding. */
const CONVERSIONS: Readonly<Record<string, { readonly source?: number; readonly target?: number }>> = {
  convert: { source: 1, target: 2 },
  convert_from: { source: 1 },
  convert_to: { target: 1 },
}

/** A string constant, through casts ('LATIN1'::name); undefined for anything computed. */
function constantString(n: unknown): string | undefined {
  const node = n as AstNode | undefined
  const cast = node?.TypeCast as AstNode | undefined
  if (cast) return constantString(cast.arg)
  const sval = ((node?.A_Const as AstNode | undefined)?.sval as { sval?: string } | undefined)?.sval
  return typeof sval === 'string' ? sval : undefined
}

function refusal(what: string): PgError {
  return new PgError(SqlState.FeatureNotSupported, `${what} is not supported by Fedgres`, {
    hint: 'Fedgres converts text to UTF8 or SQL_ASCII, from UTF8, SQL_ASCII or LATIN1, with the encoding names written as constants.',
  })
}

/** 0A000 for the first encoding conversion in a statement that PGlite cannot run safely. */
export function unsafeConversion(node: unknown): PgError | undefined {
  let err: PgError | undefined
  visit(node, (type, f) => {
    if (err || type !== 'FuncCall') return
    const name = catalogFunctionName(f)
    const spec = name !== undefined ? CONVERSIONS[name] : undefined
    if (!spec) return
    const args = (f.args as unknown[] | undefined) ?? []
    for (const [index, allowed, role] of [[spec.source, SAFE_SOURCES, 'from'], [spec.target, SERVER_LIKE_ENCODINGS, 'to']] as const) {
      if (index === undefined || args.length <= index) continue
      const value = constantString(args[index])
      if (value === undefined) err = refusal(`${name} with a computed encoding name`)
      else if (KNOWN_ENCODINGS.has(cleanEncodingName(value)) && !allowed.has(cleanEncodingName(value))) err = refusal(`conversion ${role} ${value.toUpperCase()}`)
      if (err) return
    }
  })
  return err
}
