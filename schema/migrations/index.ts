/**
 * Versioned schema migrations, run with Kysely's Migrator on every place the tables live.
 * Migration N creates or alters exactly the columns whose `since` is N, so the column specs
 * stay the one source of the DDL.
 */
import { Migrator, sql, type Kysely, type Migration } from 'kysely'
import { firedAlertsStatements, schemaStatements, type DdlTarget } from '../ddl.js'

export const SCHEMA_VERSION = 2

export function migrationsFor(target: DdlTarget): Record<string, Migration> {
  return {
    '0001_events': {
      async up(db: Kysely<unknown>) {
        for (const stmt of schemaStatements(target, 1)) await sql.raw(stmt).execute(db)
      },
      async down(db: Kysely<unknown>) {
        for (const stmt of [
          'DROP SCHEMA IF EXISTS fedgres CASCADE',
          'DROP SCHEMA IF EXISTS fedgres_parts CASCADE',
          'DROP SCHEMA IF EXISTS fedgres_internal CASCADE',
          'DROP TABLE IF EXISTS public.alerts CASCADE',
          'DROP TABLE IF EXISTS public.logs CASCADE',
        ])
          await sql.raw(stmt).execute(db)
      },
    },
    '0002_fired_alerts': {
      async up(db: Kysely<unknown>) {
        for (const stmt of firedAlertsStatements(target)) await sql.raw(stmt).execute(db)
      },
      async down(db: Kysely<unknown>) {
        await sql.raw(target === 'edge' ? 'DROP VIEW IF EXISTS fedgres.fired_alerts; DROP TABLE IF EXISTS fedgres_internal.fired_alerts' : target === 'catalog' ? 'DROP VIEW IF EXISTS fedgres.fired_alerts' : 'DROP TABLE IF EXISTS fedgres.fired_alerts').execute(db)
      },
    },
  }
}

/** Where Kysely keeps its bookkeeping, away from the user's `public` schema. */
export const MIGRATION_SCHEMA = 'fedgres_migrations'

export async function migrateToLatest(db: Kysely<unknown>, target: DdlTarget): Promise<number> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrationsFor(target) },
    migrationTableSchema: MIGRATION_SCHEMA,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error instanceof Error ? error : new Error(String(error))
  const failed = results?.find((r) => r.status === 'Error')
  if (failed) throw new Error(`schema migration ${failed.migrationName} failed`)
  return SCHEMA_VERSION
}
