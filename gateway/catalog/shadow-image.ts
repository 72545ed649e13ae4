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
const IMAGE_FORMAT = 4

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

/** The engine setting the signal overloads below append their calls to (`c<pid>,` or `t<pid>:<timeout>,`). */
export const SIGNALS_SETTING = 'fedgres.signals'

/**
 * The engine's side of pg_cancel_backend and pg_terminate_backend for the gateway's sessions
 * (session/backend-functions.ts rewrites every call to these, with the live process IDs first):
 * each records the call in SIGNALS_SETTING and answers whether the pid is a live session. The
 * record comes first, in a CASE the planner cannot fold away when the answer is a constant.
 */
const SIGNAL_OVERLOADS = `
    CREATE FUNCTION pg_catalog.pg_cancel_backend(fedgres_live integer[], pid integer) RETURNS boolean LANGUAGE sql VOLATILE STRICT
      AS $$SELECT CASE WHEN pg_catalog.set_config('${SIGNALS_SETTING}', pg_catalog.concat(pg_catalog.current_setting('${SIGNALS_SETTING}', true), 'c', pid, ','), false) IS NULL THEN NULL
        ELSE pid OPERATOR(pg_catalog.=) ANY (fedgres_live) END$$;
    CREATE FUNCTION pg_catalog.pg_terminate_backend(fedgres_live integer[], pid integer, timeout bigint DEFAULT 0) RETURNS boolean LANGUAGE sql VOLATILE STRICT
      AS $$SELECT CASE WHEN pg_catalog.set_config('${SIGNALS_SETTING}', pg_catalog.concat(pg_catalog.current_setting('${SIGNALS_SETTING}', true), 't', pid, ':', timeout, ','), false) IS NULL THEN NULL
        ELSE pid OPERATOR(pg_catalog.=) ANY (fedgres_live) END$$;`

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
    ${SIGNAL_OVERLOADS}
    ALTER DATABASE ${SHADOW_DATABASE} SET default_transaction_read_only = on;
    COMMENT ON DATABASE ${SHADOW_DATABASE} IS 'Fedgres: KubeArmor events from every edge, read-only';
  `)
  const image = await db.dumpDataDir('gzip')
  await db.close()
  return new Uint8Array(await image.arrayBuffer())
}
