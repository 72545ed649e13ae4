/**
 * The settings edges run a statement under when its rows feed the local engine. The session's
 * TimeZone, date order, IntervalStyle, extra_float_digits and bytea_output stay, since they
 * change what the edges compute (`date_trunc('day', time)` in the client's zone, '02/10/2026'
 * read in the client's order, `x::text` of a float or a bytea written as the client's session
 * writes it), and the local engine, under the same session settings, reads such values back as
 * they were. Only the date style is ISO whatever the session's: the SQL, Postgres and German
 * styles write a zone as an abbreviation ('IST'), which does not read back as the same instant.
 */
export function feedSettings(session: readonly (readonly [string, string])[]): [string, string][] {
  const get = (name: string) => session.find(([n]) => n === name)?.[1]
  const order = /\b(DMY|MDY|YMD)\b/i.exec(get('DateStyle') ?? '')?.[1]?.toUpperCase() ?? 'MDY'
  return [
    ['TimeZone', get('TimeZone') || 'UTC'],
    ['DateStyle', `ISO, ${order}`],
    ['IntervalStyle', get('IntervalStyle') || 'postgres'],
    ['extra_float_digits', get('extra_float_digits') || '1'],
    ['bytea_output', get('bytea_output') || 'hex'],
  ]
}
