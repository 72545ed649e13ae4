/**
 * Schema `fedgres`: the system views that make the network itself queryable.
 * `fedgres.edges` has one row per edge; `fedgres.sources` one row per KubeArmor source of each
 * edge; `fedgres.fired_alerts` one row per alert an edge's alert rules fired (schema version 2).
 */

export type SystemType = 'text' | 'text[]' | 'integer' | 'bigint' | 'double precision' | 'timestamptz' | 'boolean' | 'jsonb'

export interface SystemColumn {
  readonly name: string
  readonly type: SystemType
  readonly comment: string
}

const c = <N extends string, T extends SystemType>(name: N, type: T, comment: string) => ({ name, type, comment }) as const

export const edgesColumns = [
  c('edge_id', 'text', 'Edge agent id'),
  c('address', 'text', 'host:port of the edge query endpoint'),
  c('shard', 'text', 'Shard; edges sharing a shard are replicas'),
  c('cluster', 'text', 'Cluster the edge serves'),
  c('status', 'text', 'passing, warning, critical or unknown'),
  c('tags', 'text[]', 'Node tags'),
  c('tables', 'text[]', 'Tables the edge holds rows for'),
  c('alerts_rows', 'bigint', 'Rows in alerts, as of the last synopsis'),
  c('logs_rows', 'bigint', 'Rows in logs, as of the last synopsis'),
  c('min_time', 'timestamptz', 'Oldest event time held'),
  c('max_time', 'timestamptz', 'Newest event time held'),
  c('schema_version', 'integer', 'Schema version of the edge'),
  c('synopsis_updated_at', 'timestamptz', 'When the edge last published its synopsis'),
] as const

export const sourcesColumns = [
  c('edge_id', 'text', 'Edge agent id'),
  c('source', 'text', 'KubeArmor address (daemon or relay)'),
  c('state', 'text', 'connecting, connected, backoff or stopped'),
  c('connected_since', 'timestamptz', 'Start of the current connection'),
  c('last_event_time', 'timestamptz', 'When the last event arrived'),
  c('events_total', 'bigint', 'Events received since the agent started'),
  c('alerts_total', 'bigint', 'Alerts received since the agent started'),
  c('logs_total', 'bigint', 'Logs received since the agent started'),
  c('events_per_second', 'double precision', 'Receive rate over the last minute'),
  c('reconnects', 'bigint', 'Reconnects since the agent started'),
  c('throttle_notices', 'bigint', 'KubeArmor AlertThreshold notices (alerts dropped at source)'),
  c('last_error', 'text', 'Last connection error'),
] as const

export const firedAlertsColumns = [
  c('edge_id', 'text', 'Edge agent whose rule fired'),
  c('alert_id', 'text', 'Alert id (UUID), as sent to the sinks'),
  c('rule', 'text', 'Name of the alert rule'),
  c('kind', 'text', 'event, rate or status'),
  c('severity', 'text', 'Severity given in the rule'),
  c('fired_at', 'timestamptz', 'When the rule fired'),
  c('summary', 'text', 'One-line description'),
  c('details', 'jsonb', 'The matching event, the rate figures or the resource status'),
  c('sinks', 'text[]', 'Sinks the alert is delivered to'),
] as const

export const systemViews = { edges: edgesColumns, sources: sourcesColumns, fired_alerts: firedAlertsColumns } as const
export type SystemView = keyof typeof systemViews

/** Views every edge serves from its own store; the gateway unions them across edges. */
export const edgeSystemViews = ['sources', 'fired_alerts'] as const
export type EdgeSystemView = (typeof edgeSystemViews)[number]
