/**
 * What Grafana's frontend does to a PostgreSQL panel's SQL before the backend sees it: dashboard
 * and built-in variables are replaced by TemplateSrv, each value formatted by the data source's
 * `interpolateVariable`. Ported from grafana/grafana:
 *
 * - public/app/features/templating/template_srv.ts `replace` (the variable pattern, scoped
 *   variables first, "All" expanding to every option's value unless the variable has an allValue);
 * - public/app/plugins/datasource/grafana-postgresql-datasource/datasource.ts
 *   `interpolateVariable`: a string has its quotes doubled (the query supplies the quotes), an
 *   array becomes a list of quoted literals `'a','b'`, a number stays as it is;
 * - packages/grafana-data/src/datetime/rangeutil.ts `secondsToHms` (the text of `$__interval`).
 *
 * A multi-value variable's value is always an array, so `cluster_name IN ($cluster)` becomes
 * `cluster_name IN ('prod','edge-1')`. Explicit formats (`${var:csv}`) are not ported and throw.
 */

export interface DashboardVariable {
  readonly name: string
  readonly multi: boolean
  readonly includeAll: boolean
  readonly allValue?: string | null
  /** The options the variable's query returned, in order (without the "All" entry). */
  readonly options: readonly string[]
  /** The selection: `$__all` for "All", else the chosen values (or value). */
  readonly current: string | readonly string[]
}

export type ScopedVars = Record<string, { readonly value: string | number }>

const ALL = '$__all'

/** template_srv.ts's pattern: `$var`, `[[var]]`, `[[var:fmt]]`, `${var}`, `${var.field}`, `${var:fmt}`. */
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g

export function secondsToHms(seconds: number): string {
  const years = Math.floor(seconds / 31536000)
  if (years) return years + 'y'
  const days = Math.floor((seconds % 31536000) / 86400)
  if (days) return days + 'd'
  const hours = Math.floor(((seconds % 31536000) % 86400) / 3600)
  if (hours) return hours + 'h'
  const minutes = Math.floor((((seconds % 31536000) % 86400) % 3600) / 60)
  if (minutes) return minutes + 'm'
  const secs = Math.floor((((seconds % 31536000) % 86400) % 3600) % 60)
  if (secs) return secs + 's'
  const ms = Math.floor(seconds * 1000.0)
  if (ms) return ms + 'ms'
  return 'less than a millisecond'
}

/** The scoped variables a panel query is interpolated with: `$__interval`, `$__interval_ms`, `$__from`, `$__to`. */
export function panelScopedVars(intervalMs: number, from: Date, to: Date): ScopedVars {
  return {
    __interval: { value: secondsToHms(intervalMs / 1000) },
    __interval_ms: { value: intervalMs },
    __from: { value: String(from.getTime()) },
    __to: { value: String(to.getTime()) },
  }
}

const quoteLiteral = (v: string) => "'" + v.replace(/'/g, "''") + "'"

function interpolateVariable(value: string | number | readonly string[]): string {
  if (typeof value === 'string') return value.replace(/'/g, "''")
  if (typeof value === 'number') return String(value)
  return value.map(quoteLiteral).join(',')
}

function variableValue(v: DashboardVariable): string | readonly string[] {
  const cur = v.current
  const isAll = cur === ALL || (Array.isArray(cur) && cur[0] === ALL)
  if (!isAll) return cur
  if (!v.includeAll) throw new Error(`variable ${v.name} is set to All but does not include All`)
  return v.allValue ?? v.options
}

/** TemplateSrv.replace(rawSql, scopedVars, datasource.interpolateVariable). */
export function replaceTemplateVariables(sql: string, variables: readonly DashboardVariable[], scoped: ScopedVars = {}): string {
  return sql.replace(VARIABLE, (match, var1?: string, var2?: string, fmt2?: string, var3?: string, fieldPath?: string, fmt3?: string) => {
    const name = (var1 ?? var2 ?? var3)!
    if (fmt2 ?? fmt3 ?? fieldPath) throw new Error(`${match}: explicit variable formats are not ported`)
    const s = scoped[name]
    if (s !== undefined) return interpolateVariable(s.value)
    const v = variables.find((x) => x.name === name)
    if (!v) return match // not a variable: macros such as $__timeFilter(...) pass through
    // A custom all value is not formatted; only variables inside it are replaced (template_srv.ts).
    if (v.allValue && (v.current === ALL || (Array.isArray(v.current) && v.current[0] === ALL))) return replaceTemplateVariables(v.allValue, variables)
    return interpolateVariable(variableValue(v))
  })
}
