/**
 * Grafana's PostgreSQL data source backend, as far as it rewrites a panel's SQL before sending it:
 * comments stripped, the global `$__interval` substitutions, then the `$__name(args)` macros.
 * A port of Grafana's Go code, so tests can send the gateway byte for byte what Grafana sends:
 *
 * - grafana/grafana pkg/tsdb/grafana-postgresql-datasource/macros.go (`Interpolate`,
 *   `evaluateMacro`, `stripSQLComments`), and pkg/tsdb/sqlmacro/sqlmacro.go (the macro pattern);
 * - grafana/grafana pkg/tsdb/grafana-postgresql-datasource/sqleng/sql_engine.go (`Interpolate`:
 *   `$__interval_ms`, `$__interval`, `$__unixEpochFrom()`, `$__unixEpochTo()`; and
 *   `SQLMacroEngineBase.ReplaceAllStringSubmatchFunc`);
 * - grafana/grafana-plugin-sdk-go backend/gtime/gtime.go (`ParseInterval`, `FormatInterval`).
 *
 * Go's formatting is reproduced where it shows in the SQL: `time.RFC3339Nano` in UTC (trailing
 * zeros of the fraction dropped, `Z`), `%v` of a float64 (shortest digits, exponent form from
 * 1e+06 up), `%d` of Unix seconds and nanoseconds.
 *
 * Example, for 2018-04-12 18:00 to 18:05 UTC and a 5 minute interval:
 *   `SELECT $__timeGroupAlias(time, $__interval), count(*) FROM t WHERE $__timeFilter(time) GROUP BY 1`
 *   → `SELECT floor(extract(epoch from time)/300)*300 AS "time", count(*) FROM t
 *      WHERE time BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z' GROUP BY 1`
 * Not ported: SQLCommenter tags (`/*key='value'*\/`) survive comment stripping in Grafana; here
 * every comment is stripped.
 */

export interface GrafanaTimeRange {
  readonly from: Date
  readonly to: Date
}

export interface BackendQueryContext {
  readonly range: GrafanaTimeRange
  /** The query's interval (backend.DataQuery.Interval) in milliseconds. */
  readonly intervalMs: number
  /** The data source's `jsonData.timescaledb`. */
  readonly timescaledb?: boolean
}

const NS = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n } as const

/** Go's time.ParseDuration, in nanoseconds. */
export function goParseDuration(s: string): bigint {
  const orig = s
  let neg = false
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-'
    s = s.slice(1)
  }
  if (s === '0') return 0n
  if (s === '') throw new Error(`time: invalid duration "${orig}"`)
  let total = 0n
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/
  while (s !== '') {
    const m = part.exec(s)
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`time: invalid duration "${orig}"`)
    const unit = NS[m[3] as keyof typeof NS]
    const frac = m[2] ?? ''
    total += BigInt(m[1] || '0') * unit + (frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length))
    s = s.slice(m[0].length)
  }
  return neg ? -total : total
}

/** gtime.ParseInterval: Go durations, plus `Nd`, `Nw`, `NM`, `Ny` counted on the UTC calendar from now. */
export function parseInterval(inp: string, now = new Date()): bigint {
  const m = /^(\d+)([dwMy])$/.exec(inp)
  if (!m) return goParseDuration(inp)
  const n = Number(m[1])
  const then = new Date(now.getTime())
  if (m[2] === 'd') then.setUTCDate(then.getUTCDate() + n)
  else if (m[2] === 'w') then.setUTCDate(then.getUTCDate() + n * 7)
  else if (m[2] === 'M') then.setUTCMonth(then.getUTCMonth() + n)
  else then.setUTCFullYear(then.getUTCFullYear() + n)
  return BigInt(then.getTime() - now.getTime()) * 1_000_000n
}

/** gtime.FormatInterval: the largest whole unit (y, d, h, m, s, ms), truncated; never below 1ms. */
export function formatInterval(ns: bigint): string {
  const units: [string, bigint][] = [['y', 365n * 86_400n * NS.s], ['d', 86_400n * NS.s], ['h', NS.h], ['m', NS.m], ['s', NS.s], ['ms', NS.ms]]
  for (const [name, size] of units) if (ns >= size) return `${ns / size}${name}`
  return '1ms'
}

/** time.Duration.Seconds(): whole seconds plus the nanosecond remainder, as float64. */
const seconds = (ns: bigint) => Number(ns / NS.s) + Number(ns % NS.s) / 1e9

/**
 * fmt's `%v` of a float64: strconv's 'g' with the shortest digits, which uses the exponent form
 * when the decimal exponent is below -4 or at least 6 (with shortest digits the precision taken
 * for that choice is 6: strconv/ftoa.go). So 300 → "300", 0.2 → "0.2", 2592000 → "2.592e+06".
 */
export function goFloat(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'
  const [mant, e] = x.toExponential().split('e') as [string, string] // JS also gives the shortest digits
  const exp = Number(e)
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  return String(x) // JS prints a plain decimal throughout this exponent window
}

/** `time.Time.UTC().Format(time.RFC3339Nano)` of a millisecond-precision instant. */
export function rfc3339Nano(d: Date): string {
  const iso = d.toISOString() // 2018-04-12T18:00:00.500Z
  const [whole, frac] = iso.slice(0, -1).split('.') as [string, string]
  const f = frac.replace(/0+$/, '')
  return `${whole}${f ? '.' + f : ''}Z`
}

const unixSeconds = (d: Date) => Math.floor(d.getTime() / 1000)
const unixNanos = (d: Date) => (BigInt(d.getTime()) * 1_000_000n).toString()

/** sqleng.Interpolate: plain string replacements, `$__interval_ms` before `$__interval`. */
export function interpolateGlobals(sql: string, ctx: BackendQueryContext): string {
  const ns = BigInt(Math.round(ctx.intervalMs * 1e6))
  return sql
    .replaceAll('$__interval_ms', String(ns / NS.ms))
    .replaceAll('$__interval', formatInterval(ns))
    .replaceAll('$__unixEpochFrom()', String(unixSeconds(ctx.range.from)))
    .replaceAll('$__unixEpochTo()', String(unixSeconds(ctx.range.to)))
}

/** macros.go stripSQLComments: `--` and `/* *\/` comments go; quoted and dollar-quoted text stays. */
export function stripSqlComments(sql: string): string {
  let out = ''
  let i = 0
  const n = sql.length
  const quoted = (q: string) => {
    out += q
    i++
    while (i < n) {
      out += sql[i]
      if (sql[i++] !== q) continue
      if (sql[i] === q) out += sql[i++]
      else break
    }
  }
  while (i < n) {
    const c = sql[i]!
    const tag = c === '$' ? /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i)) : null
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length)
      const stop = end < 0 ? n : end + tag[0].length
      out += sql.slice(i, stop)
      i = stop
    } else if (c === "'" || c === '"') quoted(c)
    else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++
    } else out += sql[i++]
  }
  return out
}

/** sqlmacro.Expr: `$name(args)`, args up to the first `)`. */
const MACRO = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g

function validateFill(fill: string): void {
  // sqleng.SetupFillmode: NULL, previous, or a number for strconv.ParseFloat.
  if (fill !== 'NULL' && fill !== 'previous' && (fill.trim() === '' || Number.isNaN(Number(fill)))) throw new Error(`error parsing fill value ${fill}`)
}

function evaluateMacro(name: string, args: string[], ctx: BackendQueryContext): string {
  const { from, to } = ctx.range
  // Go checks len(args) == 0, which strings.Split never returns: `$__timeFilter()` expands with an
  // empty column, as in Grafana.
  const needColumn = () => {
    if (args.length === 0) throw new Error(`missing time column argument for macro ${name}`)
    return args[0]!
  }
  const groupInterval = () => {
    if (args.length < 2) throw new Error(`macro ${name} needs time column and interval and optional fill value`)
    let ns: bigint
    try {
      ns = parseInterval(args[1]!.replace(/^'+|'+$/g, ''))
    } catch {
      throw new Error(`error parsing interval ${args[1]}`)
    }
    if (ns <= 0n) throw new Error(`interval must be positive, got ${args[1]}`)
    if (args.length === 3) validateFill(args[2]!)
    return seconds(ns)
  }
  switch (name) {
    case '__time':
      return `${needColumn()} AS "time"`
    case '__timeEpoch':
      return `extract(epoch from ${needColumn()}) as "time"`
    case '__timeFilter':
      return `${needColumn()} BETWEEN '${rfc3339Nano(from)}' AND '${rfc3339Nano(to)}'`
    case '__timeFrom':
      return `'${rfc3339Nano(from)}'`
    case '__timeTo':
      return `'${rfc3339Nano(to)}'`
    case '__timeGroup': {
      const s = groupInterval()
      return ctx.timescaledb ? `time_bucket('${s.toFixed(3)}s',${args[0]})` : `floor(extract(epoch from ${args[0]})/${goFloat(s)})*${goFloat(s)}`
    }
    case '__timeGroupAlias':
      return evaluateMacro('__timeGroup', args, ctx) + ' AS "time"'
    case '__unixEpochFilter': {
      const c = needColumn()
      return `${c} >= ${unixSeconds(from)} AND ${c} <= ${unixSeconds(to)}`
    }
    case '__unixEpochNanoFilter': {
      const c = needColumn()
      return `${c} >= ${unixNanos(from)} AND ${c} <= ${unixNanos(to)}`
    }
    case '__unixEpochNanoFrom':
      return unixNanos(from)
    case '__unixEpochNanoTo':
      return unixNanos(to)
    case '__unixEpochGroup': {
      const s = groupInterval()
      return `floor((${args[0]})/${goFloat(s)})*${goFloat(s)}`
    }
    case '__unixEpochGroupAlias':
      return evaluateMacro('__unixEpochGroup', args, ctx) + ' AS "time"'
    default:
      throw new Error(`unknown macro "${name}"`)
  }
}

/** The backend's whole rewrite of one query's rawSql: what Grafana sends to the database. */
export function expandGrafanaMacros(rawSql: string, ctx: BackendQueryContext): string {
  const sql = interpolateGlobals(stripSqlComments(rawSql), ctx)
  return sql.replace(MACRO, (whole: string, name: string, argText: string) => {
    // Pre-5.3 compatibility: `$__timeGroup(...)` followed directly by ',' gets the alias. Grafana
    // looks at the first occurrence of the same text in the query, not at this match.
    let macro = name
    if (name === '__timeGroup') {
      const at = sql.indexOf(whole)
      if (at >= 0 && sql[at + whole.length] === ',') macro = '__timeGroupAlias'
    }
    const args = argText.split(',').map((a) => a.replace(/^ +| +$/g, ''))
    return evaluateMacro(macro, args, ctx)
  })
}
