/**
 * Timestamp literals as pruning reads them: ISO 8601 forms only, to the microsecond. A literal
 * without a zone is read as UTC only when the session's TimeZone is UTC; otherwise it does not
 * prune (PostgreSQL would read it in the session's zone). Read as a timestamp without time zone
 * (`ignoreZone`), a zone in the literal is ignored, as PostgreSQL ignores it. Anything else is
 * undefined: no pruning.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

export function parseTimestampMicros(s: string, utcSession: boolean, ignoreZone = false): number | undefined {
  const m = ISO.exec(s.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = ''] = m
  const zone = ignoreZone ? undefined : m[8]
  if (!zone && !utcSession) return undefined
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec))
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined
  let offsetMin = 0
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'))
  }
  return (ms - offsetMin * 60_000) * 1000 + Number(frac.padEnd(6, '0'))
}
