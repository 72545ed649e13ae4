/**
 * PostgreSQL COPY text format encoding: one row per line, columns separated by tabs,
 * `\N` for NULL, and backslash escapes for the characters that would break the framing.
 * @see https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2
 */

const NEEDS_ESCAPE = /[\\\t\n\r\0]/

/**
 * Escapes a value for a COPY text field. A NUL, which PostgreSQL's text cannot hold, becomes
 * U+FFFD: one event with a NUL in a field failed its whole commit batch, then its row-by-row
 * retry, and stopped the store for good.
 */
export function copyEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s
  return s.replace(/[\\\t\n\r\0]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\uFFFD'))
}

/** JSON text with its NUL escapes (\u0000, which jsonb refuses) replaced by U+FFFD itself. */
export function jsonWithoutNul(json: string): string {
  // An escape is preceded by an even number of backslashes; an odd number escapes the backslash.
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\uFFFD') : json
}

/** A text[] literal: every element double-quoted, with `"` and `\` escaped. */
export function textArrayLiteral(items: readonly string[]): string {
  let out = '{'
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    out += '"' + items[i]!.replace(/[\\"\0]/g, (c) => (c === '\0' ? '\uFFFD' : '\\' + c)) + '"'
  }
  return out + '}'
}

export const COPY_NULL = '\\N'

/** Decodes one COPY text field back to its string (or null); the inverse of copyEscape. */
export function copyUnescape(field: string): string | null {
  if (field === COPY_NULL) return null
  if (!field.includes('\\')) return field
  return field.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c))
}
