/**
 * A time setting's value as PostgreSQL writes it (`250ms`, `30s`, `5min`, `1h`, `1d`, `500us`;
 * a bare number is milliseconds), in milliseconds: statement_timeout as current_setting() shows
 * it, fedgres.edge_timeout as a client SETs it. Undefined when the text is not one.
 * @see https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-NAMES-VALUES
 */
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }

export function settingMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(value)
  return m ? Number(m[1]) * UNIT_MS[(m[2] ?? 'ms').toLowerCase()]! : undefined
}
