import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PGlite } from '@electric-sql/pglite'
import { kyselyOnPglite } from '../../common/kysely-pglite.js'
import { migrateToLatest, SCHEMA_VERSION } from './index.js'
import { alertColumns, logColumns } from '../columns.js'

for (const target of ['edge', 'catalog', 'reference'] as const) {
  test(`migrations build the ${target} schema with every column, and are idempotent`, async () => {
    const pg = await PGlite.create()
    const db = kyselyOnPglite(pg)
    assert.equal(await migrateToLatest(db, target), SCHEMA_VERSION)
    assert.equal(await migrateToLatest(db, target), SCHEMA_VERSION)
    for (const [table, cols] of [['alerts', alertColumns], ['logs', logColumns]] as const) {
      const res = await pg.query<{ column_name: string; data_type: string }>(
        `select column_name, format_type(atttypid, atttypmod) as data_type from information_schema.columns c
           join pg_attribute a on a.attrelid = ('public.' || c.table_name)::regclass and a.attname = c.column_name
          where table_schema = 'public' and table_name = $1 order by ordinal_position`,
        [table],
      )
      assert.deepEqual(
        res.rows.map((r) => [r.column_name, r.data_type]),
        cols.map((c) => [c.name, c.type === 'text[]' ? 'text[]' : c.type === 'timestamptz' ? 'timestamp with time zone' : c.type]),
      )
    }
    const relkind = await pg.query<{ relkind: string }>(`select relkind from pg_class where oid = 'public.alerts'::regclass`)
    assert.equal(relkind.rows[0]!.relkind, target === 'edge' ? 'p' : 'r')
    await db.destroy()
    await pg.close()
  })
}
