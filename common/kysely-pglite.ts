/**
 * Kysely over PGlite, through Kysely's own PostgresDialect: PGlite is wrapped as a one-connection
 * `pg`-style pool. A connection is held for a whole transaction, so a query issued beside a
 * transaction waits for it instead of running inside it.
 */
import type { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import { Mutex } from './mutex.js'

const commandOf = (sql: string) => /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? ''

export function pglitePool(db: PGlite) {
  const mutex = new Mutex()
  return {
    async connect() {
      const release = await mutex.acquire()
      return {
        async query(sql: string, params: unknown[]) {
          const res = await db.query<Record<string, unknown>>(sql, params)
          return { command: commandOf(sql), rowCount: res.affectedRows ?? res.rows.length, rows: res.rows }
        },
        release,
      }
    },
    async end() {},
  }
}

export function kyselyOnPglite<DB>(db: PGlite): Kysely<DB> {
  // The pool shape is what PostgresDialect calls; its types name pg's Pool.
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: pglitePool(db) as never }) })
}
