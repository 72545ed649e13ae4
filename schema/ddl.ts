/**
 * DDL generated from the column specs. One generator serves every place the tables exist:
 *  - `edge`: the edge agent's PGlite; tables partitioned by day on `time`, with indexes and
 *    the agent's internal state under `fedgres_internal`;
 *  - `catalog`: the gateway's shadow catalog; plain, empty tables and the `fedgres` views;
 *  - `reference`: native PostgreSQL holding every row (the oracle), and the gateway's local engine.
 */
import { eventColumns, eventTables, type ColumnSpec, type EventTable } from './columns.js'
import { systemViews, type SystemColumn, type SystemView } from './system-views.js'
import { quoteLiteral } from '../common/sql-quote.js'

export type DdlTarget = 'edge' | 'catalog' | 'reference'

const columnDef = (c: ColumnSpec) => `  ${c.name} ${c.type}${c.notNull ? ' NOT NULL' : ''}`

const tableComment: Record<EventTable, string> = {
  alerts: 'KubeArmor alerts (feeder.Alert): one row per policy match or throttle notice, from every edge',
  logs: 'KubeArmor system logs (feeder.Log): one row per process, file or network event, from every edge',
}

export function createEventTable(table: EventTable, target: DdlTarget, version = Infinity): string[] {
  const cols = eventColumns[table].filter((c) => c.since <= version)
  const partition = target === 'edge' ? ' PARTITION BY RANGE (time)' : ''
  const out = [`CREATE TABLE public.${table} (\n${cols.map(columnDef).join(',\n')}\n)${partition}`]
  out.push(`COMMENT ON TABLE public.${table} IS ${quoteLiteral(tableComment[table])}`)
  for (const c of cols) out.push(`COMMENT ON COLUMN public.${table}.${c.name} IS ${quoteLiteral(c.comment)}`)
  if (target === 'edge') out.push(...edgeIndexes(table))
  return out
}

/**
 * Indexes at the edge. Events arrive in time order, so a BRIN index on `time` stays tight and
 * costs almost nothing at ingest, where a b-tree per pruning column cost a third of COPY speed.
 * Pruning of whole edges happens at the gateway, from the synopsis.
 */
export function edgeIndexes(table: EventTable): string[] {
  return [
    `CREATE INDEX ${table}_time_idx ON public.${table} USING brin (time)`,
  ]
}

const systemColumnDef = (c: SystemColumn) => `NULL::${c.type} AS ${c.name}`

/** An empty view with the exact column types: the shadow catalog's stand-in for the network. */
export function createEmptySystemView(view: SystemView): string[] {
  const cols = systemViews[view]
  return [
    `CREATE VIEW fedgres.${view} AS SELECT ${cols.map(systemColumnDef).join(', ')} WHERE false`,
    ...cols.map((c) => `COMMENT ON COLUMN fedgres.${view}.${c.name} IS ${quoteLiteral(c.comment)}`),
  ]
}

/** A real table with the view's columns; the reference engine loads live rows into it. */
export function createSystemTable(view: SystemView, schema = 'fedgres'): string {
  return `CREATE TABLE ${schema}.${view} (${systemViews[view].map((c) => `${c.name} ${c.type}`).join(', ')})`
}

export function dayPartitionName(table: EventTable, day: string): string {
  return `fedgres_parts.${table}_p${day.replace(/-/g, '')}`
}

/** `day` is YYYY-MM-DD (UTC). */
/**
 * The day after `day` (YYYY-MM-DD), as PostgreSQL reads a date: the year without a sign, of four
 * digits or more. toISOString() wrote the day after 9999-12-31 as '+010000-01-01', which
 * PostgreSQL refuses, and one event dated 9999-12-31 stopped every commit of the store.
 */
export function nextDay(day: string): string {
  const d = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000)
  const pad = (n: number, w: number) => String(n).padStart(w, '0')
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
}

export function createDayPartition(table: EventTable, day: string): string {
  const next = nextDay(day)
  return `CREATE TABLE IF NOT EXISTS ${dayPartitionName(table, day)} PARTITION OF public.${table} FOR VALUES FROM ('${day} 00:00:00+00') TO ('${next} 00:00:00+00')`
}

/** The statements of schema version 2: the fired alerts view. */
export function firedAlertsStatements(target: DdlTarget): string[] {
  if (target === 'catalog') return createEmptySystemView('fired_alerts')
  if (target === 'reference') return [createSystemTable('fired_alerts')]
  return [
    createSystemTable('fired_alerts', 'fedgres_internal'),
    `CREATE INDEX fired_alerts_time ON fedgres_internal.fired_alerts (fired_at)`,
    `CREATE VIEW fedgres.fired_alerts AS SELECT * FROM fedgres_internal.fired_alerts`,
  ]
}

export function schemaStatements(target: DdlTarget, version = Infinity): string[] {
  if (version >= 2) return [...schemaStatements(target, 1), ...firedAlertsStatements(target)]
  const out: string[] = []
  for (const t of eventTables) out.push(...createEventTable(t, target, version))
  out.push('CREATE SCHEMA fedgres')
  out.push(`COMMENT ON SCHEMA fedgres IS 'Fedgres system views: the edges and their KubeArmor sources'`)
  if (target === 'catalog') {
    out.push(...createEmptySystemView('edges'), ...createEmptySystemView('sources'))
  } else if (target === 'reference') {
    out.push(createSystemTable('edges'), createSystemTable('sources'))
  } else {
    out.push('CREATE SCHEMA fedgres_parts', 'CREATE SCHEMA fedgres_internal')
    out.push(createSystemTable('sources', 'fedgres_internal'))
    out.push(`CREATE VIEW fedgres.sources AS SELECT * FROM fedgres_internal.sources`)
    out.push(
      `CREATE TABLE fedgres_internal.spool_state (id integer PRIMARY KEY CHECK (id = 1), segment bigint NOT NULL, "offset" bigint NOT NULL, committed bigint NOT NULL, synopsis jsonb)`,
      `INSERT INTO fedgres_internal.spool_state VALUES (1, 1, 0, 0, NULL)`,
      `CREATE TABLE fedgres_internal.rejected_rows (at timestamptz NOT NULL DEFAULT now(), tbl text NOT NULL, line text NOT NULL, error text NOT NULL)`,
      // The synopsis as last published (it may run ahead of spool_state's committed one):
      // static discovery reads it from the edge's own endpoint.
      `CREATE TABLE fedgres_internal.published_synopsis (id integer PRIMARY KEY CHECK (id = 1), synopsis jsonb NOT NULL, published_at timestamptz NOT NULL)`,
      `CREATE VIEW fedgres.synopsis AS SELECT (SELECT synopsis FROM fedgres_internal.published_synopsis) AS synopsis`,
    )
  }
  return out
}
