/** The parts of a Grafana dashboard JSON that hold SQL: query variables and panel targets (rows included). */
import { readFileSync } from 'node:fs'

export interface DataSourceRef {
  readonly type?: string
  readonly uid?: string
}

export interface SqlTarget {
  readonly refId: string
  readonly rawSql: string
  /** `time_series` or `table` (Grafana's default is time_series). */
  readonly format: string
  readonly hide?: boolean
  readonly datasource?: DataSourceRef
}

export interface DashboardPanel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly datasource?: DataSourceRef
  readonly targets?: readonly SqlTarget[]
  readonly panels?: readonly DashboardPanel[]
}

export interface QueryVariable {
  readonly type: string
  readonly name: string
  readonly datasource?: DataSourceRef
  /** A string (older dashboards) or a query object with rawSql. */
  readonly query: string | { readonly rawSql?: string }
  readonly multi?: boolean
  readonly includeAll?: boolean
  readonly allValue?: string | null
}

export interface Dashboard {
  readonly uid: string
  readonly title: string
  readonly schemaVersion: number
  readonly panels: readonly DashboardPanel[]
  readonly templating: { readonly list: readonly QueryVariable[] }
}

export interface PanelQuery {
  readonly panel: DashboardPanel
  readonly target: SqlTarget
}

export const loadDashboard = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Dashboard

/** Every panel, including those collapsed inside rows. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = []
  const walk = (ps: readonly DashboardPanel[]) => {
    for (const p of ps) {
      out.push(p)
      if (p.panels) walk(p.panels)
    }
  }
  walk(d.panels)
  return out
}

/** Every target Grafana would run: all panels' targets that are not hidden. */
export function panelQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((panel) => (panel.targets ?? []).filter((t) => !t.hide).map((target) => ({ panel, target })))
}

export const variableSql = (v: QueryVariable) => (typeof v.query === 'string' ? v.query : (v.query.rawSql ?? ''))

export const queryVariables = (d: Dashboard) => d.templating.list.filter((v) => v.type === 'query')
