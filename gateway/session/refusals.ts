/**
 * Statements Fedgres refuses (0A000) because it could not answer them as PostgreSQL would: a
 * session setting the edges do not follow, a function that runs SQL given as text or takes an
 * advisory lock, a system column that describes an edge's storage. A clear error, never a
 * different answer.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { catalogFunctionName } from '../plan/ast.js'
import { walk, type AstNode } from './sql-parse.js'
import { settingMs } from './setting-duration.js'

const isOn = (v: string) => /^(on|t|tr|tru|true|y|ye|yes|1)$/i.test(v.trim())
/** C, POSIX or C.UTF-8: the locales that format as C does (not '', which is the server's environment). */
const isCLocale = (v: string) => /^(c|posix|c\.utf-?8)$/i.test(v.trim())

/**
 * Settings that change what a statement means, which the edges and the gateway's own parser do
 * not follow (they run every statement under these defaults): only the default is taken, so a
 * session never gets an answer PostgreSQL would not give under its settings.
 */
const DEFAULT_ONLY: Readonly<Record<string, { readonly ok: (v: string) => boolean; readonly value: string }>> = {
  standard_conforming_strings: { ok: isOn, value: 'on' },
  transform_null_equals: { ok: (v) => !isOn(v), value: 'off' },
  array_nulls: { ok: isOn, value: 'on' },
  quote_all_identifiers: { ok: (v) => !isOn(v), value: 'off' },
  xmloption: { ok: (v) => v.trim().toLowerCase() === 'content', value: 'content' },
  timezone_abbreviations: { ok: (v) => v.trim().toLowerCase() === 'default', value: 'Default' },
  xmlbinary: { ok: (v) => v.trim().toLowerCase() === 'base64', value: 'base64' },
  default_text_search_config: { ok: (v) => ['pg_catalog.english', 'english'].includes(v.trim().toLowerCase()), value: 'pg_catalog.english' },
  // Formatting locales: the edges are never sent them, and the gateway's engine (WebAssembly, no
  // locale data) took 'de_DE.UTF-8' and still wrote to_char(sum(pid), '9G999D99') and 'TMMonth'
  // as C does, where PostgreSQL writes German (or refuses a locale it lacks).
  lc_numeric: { ok: isCLocale, value: 'C' },
  lc_monetary: { ok: isCLocale, value: 'C' },
  lc_time: { ok: isCLocale, value: 'C' },
  // Not kept at all: its limit would end the catalog engine that every session shares (settings.ts).
  transaction_timeout: { ok: (v) => settingMs(v) === 0, value: '0' },
}

/**
 * 0A000 for set_config() of one of DEFAULT_ONLY with a computed value (`'o' || 'n'`), which
 * cannot be checked before it runs: it turned transform_null_equals on unchecked.
 */
export function computedDefaultOnly(name: string): PgError | undefined {
  if (!Object.hasOwn(DEFAULT_ONLY, name.toLowerCase())) return undefined
  return new PgError(SqlState.FeatureNotSupported, `set_config of ${name.toLowerCase()} with a computed value is not supported by Fedgres`, {
    hint: `Fedgres runs statements with ${name.toLowerCase()} = ${DEFAULT_ONLY[name.toLowerCase()]!.value}; give the value as a literal.`,
  })
}

/** 0A000 for setting one of DEFAULT_ONLY to another value (`value` undefined: DEFAULT or computed). */
export function defaultOnlySetting(name: string, value: string | undefined): PgError | undefined {
  const rule = DEFAULT_ONLY[name.toLowerCase()]
  if (!rule || value === undefined || rule.ok(value)) return undefined
  return new PgError(SqlState.FeatureNotSupported, `Fedgres does not support ${name.toLowerCase()} = ${value}`, {
    hint: `Fedgres runs statements with ${name.toLowerCase()} = ${rule.value}, so under another value its answers could differ from PostgreSQL's.`,
  })
}

/**
 * Functions that run SQL given as text (or read a whole table or schema by name). They would run
 * it in the gateway's catalog, where the event tables hold no rows: `query_to_xml('SELECT count(*)
 * FROM logs', ...)` answered 0.
 */
const RUNS_SQL_TEXT = new Set([
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema', 'table_to_xml', 'table_to_xmlschema',
  'table_to_xml_and_xmlschema', 'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema', 'database_to_xml', 'database_to_xmlschema',
  'database_to_xml_and_xmlschema', 'ts_stat',
])

/**
 * Advisory locks belong to a session, but every session of a gateway shares one catalog engine:
 * a lock one session took there was "held" by all of them (a second pg_advisory_lock(1) returned
 * at once, pg_advisory_unlock_all() released another session's locks), so they would exclude
 * nothing.
 */
const ADVISORY_LOCK = /^pg_(try_)?advisory_/

/**
 * system_user (`scram-sha-256:analyst` in PostgreSQL) is NULL in the gateway's engine, which
 * authenticated no one: the gateway does that itself.
 */
const SYSTEM_USER = 'system_user'

/** 0A000 for a call to a function that runs SQL text, takes an advisory lock, or is system_user. */
export function refusedCall(node: AstNode): PgError | undefined {
  let found: string | undefined
  walk(node, (type, f) => {
    if (type !== 'FuncCall' || found) return
    const name = catalogFunctionName(f)
    if (name && (RUNS_SQL_TEXT.has(name) || ADVISORY_LOCK.test(name) || name === SYSTEM_USER)) found = name
  })
  if (!found) return undefined
  const hint = ADVISORY_LOCK.test(found)
    ? "A gateway's sessions share one catalog engine, so a lock taken there would keep no other session out."
    : found === SYSTEM_USER
      ? 'The gateway authenticates clients itself (SCRAM-SHA-256), so its engine cannot tell; current_user names the client.'
      : 'It runs its query in the gateway, where the events are not; run the query itself.'
  return new PgError(SqlState.FeatureNotSupported, `${found} is not supported by Fedgres`, { hint })
}

/**
 * current_query() over the events: the gateway's engine answers it, with the statement as the
 * gateway rewrote it for the rows it gathered, not the client's text.
 */
export function currentQueryOverEvents(node: AstNode): PgError | undefined {
  let found = false
  walk(node, (type, f) => {
    if (type === 'FuncCall' && catalogFunctionName(f) === 'current_query') found = true
  })
  return found
    ? new PgError(SqlState.FeatureNotSupported, 'current_query() in a statement over the events is not supported by Fedgres', {
        hint: 'The statement is rewritten before it runs; current_query() in a statement over the catalog alone gives your text.',
      })
    : undefined
}

/**
 * System columns are each edge's own: tableoid names the day's partition there
 * (`tableoid::regclass` read fedgres_parts.logs_p20261001, and `tableoid = 'logs'::regclass`
 * matched nothing); ctid is a place in one edge's storage, so every edge had a row at (0,1)
 * (`WHERE ctid = '(0,1)'` found 24 rows, against PostgreSQL's one, and `count(DISTINCT ctid)`
 * failed); xmin, xmax, cmin and cmax are each edge's transaction numbers. A statement over the
 * events that names one is refused rather than answered unlike PostgreSQL. A name the statement
 * itself gives to a column (`min(pid) AS xmin ... ORDER BY xmin`) is that column, not refused.
 */
const SYSTEM_COLUMNS = new Set(['tableoid', 'ctid', 'xmin', 'xmax', 'cmin', 'cmax'])

export function systemColumn(node: AstNode): PgError | undefined {
  const named = new Set<string>()
  walk(node, (type, f) => {
    if (type === 'ResTarget' && typeof f.name === 'string') named.add(f.name)
    // Column aliases: an Alias's colnames (kept inline in its RangeVar, subquery or join), a CTE's aliascolnames.
    const lists = [f.colnames, f.aliascolnames, (f.alias as AstNode | undefined)?.colnames]
    for (const list of lists) {
      for (const c of (list as AstNode[] | undefined) ?? []) {
        const name = (c.String as { sval?: string } | undefined)?.sval
        if (name) named.add(name)
      }
    }
  })
  let found: string | undefined
  walk(node, (type, f) => {
    if (type !== 'ColumnRef' || found) return
    const fields = f.fields as AstNode[] | undefined
    const last = (fields?.[fields.length - 1]?.String as { sval?: string } | undefined)?.sval
    if (last && SYSTEM_COLUMNS.has(last) && !named.has(last)) found = last
  })
  return found ? new PgError(SqlState.FeatureNotSupported, `system column ${found} is not supported by Fedgres`, { hint: 'Each edge stores its events in partitions of its own, with its own row positions and transaction numbers.' }) : undefined
}

/**
 * Roles, schemas and tables named through the catalog (`current_user::regrole`,
 * `to_regclass('alerts')`): over the events such a value is computed on the edges, in their own
 * catalogs, where the session's role does not exist ("role "analyst" does not exist";
 * `to_regrole(current_user) IS NOT NULL` was false) and tables have other OIDs. Types, functions
 * and operators (regtype, regproc, regoper) are built in, with the same OIDs everywhere.
 */
const EDGE_CATALOG_TYPES = new Set(['regrole', 'regnamespace', 'regclass'])
const EDGE_CATALOG_FUNCTIONS = new Set(['to_regrole', 'to_regnamespace', 'to_regclass'])

export function edgeCatalogName(node: AstNode): PgError | undefined {
  let found: string | undefined
  walk(node, (type, f) => {
    if (found) return
    if (type === 'TypeCast') {
      const names = ((f.typeName as AstNode | undefined)?.names as AstNode[] | undefined) ?? []
      const last = (names[names.length - 1]?.String as { sval?: string } | undefined)?.sval
      if (last && EDGE_CATALOG_TYPES.has(last)) found = `a cast to ${last}`
    } else if (type === 'FuncCall') {
      const name = catalogFunctionName(f)
      if (name && EDGE_CATALOG_FUNCTIONS.has(name)) found = `${name}()`
    }
  })
  return found
    ? new PgError(SqlState.FeatureNotSupported, `${found} in a statement over the events is not supported by Fedgres`, {
        hint: 'Each edge has its own catalog, with its own roles and OIDs. Look the name up in a statement over the catalog alone.',
      })
    : undefined
}

/**
 * Collations the edges' and the gateway's PostgreSQL (PGlite) sort by as PostgreSQL does: the
 * byte-order ones and the built-in provider's. Its libc locales (en_US) exist but sort like C, as
 * WebAssembly has no locale data: `ORDER BY host_name COLLATE "en_US"` put 'B' before 'a', where a
 * PostgreSQL with that locale puts it after. Its ICU (und-x-icu, unicode) is another version than
 * PostgreSQL 18.4's, and orders letters and emoji added to Unicode in recent years otherwise.
 * Other ICU locales do not exist.
 */
const COLLATIONS = new Set(['default', 'c', 'posix', 'c.utf8', 'c.utf-8', 'ucs_basic', 'pg_c_utf8', 'pg_unicode_fast'])

export function unsupportedCollation(node: AstNode): PgError | undefined {
  let found: string | undefined
  walk(node, (type, f) => {
    if (found || type !== 'CollateClause') return
    const names = (f.collname as AstNode[] | undefined) ?? []
    const name = (names[names.length - 1]?.String as { sval?: string } | undefined)?.sval
    if (name !== undefined && !COLLATIONS.has(name.toLowerCase())) found = name
  })
  return found
    ? new PgError(SqlState.FeatureNotSupported, `collation "${found}" in a statement over the events is not supported by Fedgres`, {
        hint: 'The edges sort by C, POSIX, ucs_basic, pg_c_utf8 or pg_unicode_fast as PostgreSQL does; locale collations are not available there, and their ICU is another version.',
      })
    : undefined
}
