/** Day partitions of the edge's store: listing them with their size, and dropping one. */
import type { PGlite } from '@electric-sql/pglite'
import { dayPartitionName, type EventTable } from '../../schema/index.js'
import type { DropResult, PartitionInfo } from './worker-protocol.js'

const PART = /^(alerts|logs)_p(\d{4})(\d{2})(\d{2})$/

export async function listPartitions(db: PGlite): Promise<PartitionInfo[]> {
  const res = await db.query<{ relname: string; bytes: string }>(
    `SELECT c.relname, pg_total_relation_size(c.oid) AS bytes
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'fedgres_parts'`,
  )
  const out: PartitionInfo[] = []
  for (const r of res.rows) {
    const m = PART.exec(r.relname)
    if (!m) continue
    out.push({ table: m[1] as EventTable, day: `${m[2]}-${m[3]}-${m[4]}`, name: `fedgres_parts.${r.relname}`, bytes: Number(r.bytes) })
  }
  return out.sort((a, b) => a.day.localeCompare(b.day) || a.table.localeCompare(b.table))
}

/** Drops the partition in one transaction, unless rows arrived since `expectRows` were counted. */
export async function dropPartition(db: PGlite, table: EventTable, day: string, expectRows: number | null): Promise<DropResult> {
  const name = dayPartitionName(table, day)
  return db.transaction(async (tx) => {
    const n = Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0]!.n)
    const dropped = expectRows === null || n === expectRows
    if (dropped) await tx.exec(`DROP TABLE ${name}`)
    const after = await tx.query<{ n: string; min: string | null }>(
      `SELECT count(*) AS n, (extract(epoch FROM min(time)) * 1000000)::bigint::text AS min FROM public.${table}`,
    )
    const a = after.rows[0]!
    return { dropped, rows: n, minTime: a.min === null ? null : Number(a.min), tableRows: Number(a.n) }
  })
}
