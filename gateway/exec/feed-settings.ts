/**
 * The settings edges run a statement under when its rows feed the local engine. The session's
 * TimeZone, date order and IntervalStyle stay, since they change what the edges compute
 * (`date_trunc('day', time)` in the client's zone, '02/10/2026' read in the client's order); the
 * rest make text that the local engine, under the same session settings, reads back exactly:
 * ISO dates, shortest exact floats, hex bytea.
 */
export function feedSettings(session: readonly (readonly [string, string])[]): [string, string][] {
  const get = (name: string) => session.find(([n]) => n === name)?.[1]
  const order = /\b(DMY|MDY|YMD)\b/i.exec(get('DateStyle') ?? '')?.[1]?.toUpperCase() ?? 'MDY'
  return [
    ['TimeZone', get('TimeZone') || 'UTC'],
    ['DateStyle', `ISO, ${order}`],
    ['IntervalStyle', get('IntervalStyle') || 'postgres'],
    ['extra_float_digits', '1'],
    ['bytea_output', 'hex'],
  ]
}
