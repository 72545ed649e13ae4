/**
 * TypeScript row types derived from the column specs, so a column added to the schema
 * shows up in every typed query (Kysely) without a second definition.
 */
import type { alertColumns, logColumns, PgType } from './columns.js'
import type { edgesColumns, sourcesColumns, SystemType } from './system-views.js'

interface TsOfType {
  timestamptz: Date
  text: string
  integer: number
  bigint: string
  jsonb: Record<string, string>
  'text[]': string[]
  'double precision': number
  boolean: boolean
}

type Nullable<C> = C extends { notNull: true } ? never : null

type RowOf<Cols extends readonly { name: string; type: PgType | SystemType }[]> = {
  [C in Cols[number] as C['name']]: TsOfType[C['type']] | Nullable<C>
}

export type AlertRow = RowOf<typeof alertColumns>
export type LogRow = RowOf<typeof logColumns>
export type EdgeRow = RowOf<typeof edgesColumns>
export type SourceRow = RowOf<typeof sourcesColumns>

/** The database as Kysely sees it. */
export interface FedgresDatabase {
  alerts: AlertRow
  logs: LogRow
  'fedgres.edges': EdgeRow
  'fedgres.sources': SourceRow
}
