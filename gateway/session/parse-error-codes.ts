/**
 * The SQLSTATE of an error PostgreSQL's parser raises. Most are syntax errors (42601), but some
 * rules of its grammar and scanner raise others: a window frame that cannot be (42P20), float(0)
 * (22023), an unimplemented predicate (0A000). libpg-query, which runs that very parser, reports
 * the message and the source file of the error but not its code; this table gives the code,
 * as gram.y and scan.l give it, by file and message.
 */
import { SqlState, type SqlStateCode } from '../../common/errors/sqlstate.js'

const GRAM: Readonly<Record<string, SqlStateCode>> = {
  'frame start cannot be UNBOUNDED FOLLOWING': SqlState.WindowingError,
  'frame end cannot be UNBOUNDED PRECEDING': SqlState.WindowingError,
  'frame starting from current row cannot have preceding rows': SqlState.WindowingError,
  'frame starting from following row cannot have preceding rows': SqlState.WindowingError,
  'frame starting from following row cannot end with current row': SqlState.WindowingError,
  'precision for type float must be at least 1 bit': SqlState.InvalidParameterValue,
  'precision for type float must be less than 54 bits': SqlState.InvalidParameterValue,
  'UNIQUE predicate is not yet implemented': SqlState.FeatureNotSupported,
  'MATCH PARTIAL not yet implemented': SqlState.FeatureNotSupported,
  'CREATE ASSERTION is not yet implemented': SqlState.FeatureNotSupported,
  'current database cannot be changed': SqlState.FeatureNotSupported,
  'modulus for hash partition provided more than once': SqlState.DuplicateObject,
  'remainder for hash partition provided more than once': SqlState.DuplicateObject,
}

const SCAN: Readonly<Record<string, SqlStateCode>> = {
  // In scan.l, an escape in an E'' string; the same words from parser.c (a U& string) are a syntax error.
  'invalid Unicode escape': SqlState.InvalidEscapeSequence,
  'unsafe use of string constant with Unicode escapes': SqlState.FeatureNotSupported,
  "unsafe use of \\' in a string literal": SqlState.NonstandardUseOfEscapeCharacter,
}

/** The code of a parser error, by the file libpg-query names and its message; 42601 if none other. */
export function parseErrorCode(fileName: string | undefined, message: string): SqlStateCode {
  const table = fileName === 'gram.y' ? GRAM : fileName === 'scan.l' ? SCAN : undefined
  if (table && Object.hasOwn(table, message)) return table[message]!
  if (fileName === 'gram.y' && / cannot be used as a role name here$/.test(message)) return SqlState.ReservedName
  return SqlState.SyntaxError
}
