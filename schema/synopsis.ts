/**
 * The synopsis: what an edge holds, published so gateways can skip edges whose rows cannot
 * match a query. Shared by the edge (which writes it) and the gateway (which prunes with it).
 *
 * A value set lists every value seen in a column (NULL included, as `null`), or is `'any'` once
 * it outgrew its cap. Time bounds are leases: `maxTime` lies ahead of the newest event so that
 * ordinary ingest does not widen the synopsis with every batch.
 */
export const SYNOPSIS_COLUMNS = ['cluster_name', 'host_name', 'namespace_name', 'tags'] as const
export type SynopsisColumn = (typeof SYNOPSIS_COLUMNS)[number]

export type ValueSet = readonly (string | null)[] | 'any'

export interface TableSynopsis {
  readonly rows: number
  /** Microseconds since the Unix epoch; null when the table is empty. */
  readonly minTime: number | null
  readonly maxTime: number | null
  readonly values: Readonly<Record<SynopsisColumn, ValueSet>>
}

export interface Synopsis {
  readonly edgeId: string
  /** Increases with every published change. */
  readonly version: number
  readonly publishedAt: string
  readonly schemaVersion: number
  readonly tables: Readonly<Record<'alerts' | 'logs', TableSynopsis>>
}

/**
 * The write-ahead rule's two clocks. An edge waits PUBLISH_GRACE_MS (its `synopsis.publish_grace`)
 * after publishing a widened synopsis before it commits the rows that widened it. A gateway prunes
 * with a synopsis only while it is less than SYNOPSIS_MAX_AGE_MS old (the time discovery last
 * confirmed it): below the grace, so no row the synopsis does not cover can have been committed
 * meanwhile, and above the static discovery's 1 s poll, so pruning goes on between polls.
 */
export const PUBLISH_GRACE_MS = 1500
export const SYNOPSIS_MAX_AGE_MS = 1400

/** Where the edge keeps its synopsis in Consul's KV store. */
export const synopsisKey = (edgeId: string) => `fedgres/edges/${edgeId}/synopsis`
