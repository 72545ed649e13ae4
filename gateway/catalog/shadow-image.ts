/**
 * The shadow catalog's database image: a PostgreSQL data directory holding database `fedgres`
 * with the schema's tables and the `fedgres` views, built once (initdb takes seconds) and cached
 * as a tarball keyed by the PGlite version and the DDL, so later starts load it in well under a second.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { kyselyOnPglite } from '../../common/kysely-pglite.js'
import { MIGRATION_SCHEMA, migrateToLatest, schemaStatements, SCHEMA_VERSION } from '../../schema/index.js'

export const SHADOW_DATABASE = 'fedgres'
/** Every gateway user is a member; it may read the tables and views and nothing else. */
export const READER_ROLE = 'fedgres_reader'
/**
 * The shadow's session user after setup: not a superuser, only a member of each gateway user's
 * role, so a client can switch to no identity but its own (or another gateway user's).
 */
export const SESSION_ROLE = 'fedgres_session'

/** PGlite pins search_path=public; a real server's default is "$user", public, and clients see it. */
export const shadowStartParams = () => [
  ...PGlite.defaultStartParams.map((p) => (p === 'search_path=public' ? 'search_path="$user", public' : p)),
  // Fedgres is read-only, and says so: the shadow refuses writes itself, as a second line.
  '-c',
  'default_transaction_read_only=on',
]

function pgliteVersion(): string {
  const require = createRequire(import.meta.url)
  const pkgPath = require.resolve('@electric-sql/pglite').replace(/dist[\\/].*$/, 'package.json')
  return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version
}

/** Bump when buildShadowImage changes what the image holds. */
const IMAGE_FORMAT = 2

export function imageKey(): string {
  const h = createHash('sha256').update(String(IMAGE_FORMAT)).update(pgliteVersion()).update(String(SCHEMA_VERSION)).update(schemaStatements('catalog').join(';\n'))
  return h.digest('hex').slice(0, 16)
}

export const defaultCacheDir = () => join(process.env.XDG_CACHE_HOME ?? join(tmpdir(), 'fedgres-cache'), 'shadow')

/** Returns the image tarball (gzip), building and caching it when needed. */
export async function loadShadowImage(cacheDir = defaultCacheDir()): Promise<Uint8Array> {
  const file = join(cacheDir, `shadow-${imageKey()}.tar.gz`)
  if (existsSync(file)) return readFileSync(file)
  const image = await buildShadowImage()
  mkdirSync(cacheDir, { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, image)
  renameSync(tmp, file) // atomic: a concurrent gateway reads a whole image or builds its own
  return image
}

async function buildShadowImage(): Promise<Uint8Array> {
  const boot = await PGlite.create()
  await boot.exec(`CREATE DATABASE ${SHADOW_DATABASE}`)
  const bootImage = await boot.dumpDataDir('none')
  await boot.close()
  // Built writable; the image itself then says read-only (ALTER DATABASE below), as do the start params it is served with.
  const db = await PGlite.create({ loadDataDir: bootImage, database: SHADOW_DATABASE, startParams: shadowStartParams().filter((p, i, all) => p !== 'default_transaction_read_only=on' && !(p === '-c' && all[i + 1] === 'default_transaction_read_only=on')) })
  await migrateToLatest(kyselyOnPglite(db), 'catalog')
  await db.exec(`
    DROP SCHEMA ${MIGRATION_SCHEMA} CASCADE;
    CREATE ROLE ${READER_ROLE} NOLOGIN;
    CREATE ROLE ${SESSION_ROLE} NOLOGIN;
    GRANT USAGE ON SCHEMA public, fedgres TO ${READER_ROLE};
    GRANT SELECT ON ALL TABLES IN SCHEMA public, fedgres TO ${READER_ROLE};
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    ALTER DATABASE ${SHADOW_DATABASE} SET default_transaction_read_only = on;
    COMMENT ON DATABASE ${SHADOW_DATABASE} IS 'Fedgres: KubeArmor events from every edge, read-only';
  `)
  const image = await db.dumpDataDir('gzip')
  await db.close()
  return new Uint8Array(await image.arrayBuffer())
}
