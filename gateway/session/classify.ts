/**
 * What a statement is, for routing: handled by the session (transactions, cursors, settings),
 * run on the shadow catalog (it touches only pg_catalog, information_schema or no relation),
 * run by the federation (it reads Fedgres's tables), or refused (it writes).
 */
import { clientEncodingError } from './client-encoding.js'
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { relationRangeVars } from '../../common/pg-ast.js'
import { unsafeConversion } from '../../common/encoding-conversion.js'
import { hasAggregates } from '../plan/partial-aggregate.js'
import { catalogFunctionName } from '../plan/ast.js'
import { computedDefaultOnly, currentQueryOverEvents, defaultOnlySetting, edgeCatalogName, refusedCall, systemColumn, unsupportedCollation } from './refusals.js'
import { GATEWAY_ONLY } from './settings.js'
import { constString, walk, type AstNode, type ParsedStatement } from './sql-parse.js'

export type StatementClass =
  | { readonly kind: 'transaction'; readonly stmt: AstNode }
  | { readonly kind: 'set'; readonly stmt: AstNode }
  | { readonly kind: 'discard'; readonly target: string }
  | { readonly kind: 'deallocate'; readonly name: string | null }
  | { readonly kind: 'declare'; readonly stmt: AstNode }
  | { readonly kind: 'fetch'; readonly stmt: AstNode }
  | { readonly kind: 'close-cursor'; readonly name: string | null }
  | { readonly kind: 'unlisten' }
  | { readonly kind: 'read'; readonly target: 'local' | 'data'; readonly setsConfig: boolean }
  | { readonly kind: 'copy'; readonly stmt: AstNode }
  | { readonly kind: 'write'; readonly command: string }
  | { readonly kind: 'unsupported'; readonly command: string }
  | { readonly kind: 'denied'; readonly error: PgError }

/** The relations that hold events, or describe the network: everything else is catalog. */
const EVENT_TABLES = new Set(['alerts', 'logs'])
const FEDGRES_SCHEMAS = new Set(['fedgres'])

const COMMAND: Record<string, string> = {
  InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE', CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS', ViewStmt: 'CREATE VIEW', IndexStmt: 'CREATE INDEX', DropStmt: 'DROP', AlterTableStmt: 'ALTER TABLE',
  TruncateStmt: 'TRUNCATE', CreateSchemaStmt: 'CREATE SCHEMA', CreateFunctionStmt: 'CREATE FUNCTION', GrantStmt: 'GRANT', GrantRoleStmt: 'GRANT',
  CreateRoleStmt: 'CREATE ROLE', AlterRoleStmt: 'ALTER ROLE', DropRoleStmt: 'DROP ROLE', CommentStmt: 'COMMENT', VacuumStmt: 'VACUUM',
  CreateSeqStmt: 'CREATE SEQUENCE', AlterSeqStmt: 'ALTER SEQUENCE', RenameStmt: 'ALTER', CreatedbStmt: 'CREATE DATABASE', DropdbStmt: 'DROP DATABASE',
  CreateExtensionStmt: 'CREATE EXTENSION', DoStmt: 'DO', LockStmt: 'LOCK TABLE', ClusterStmt: 'CLUSTER', ReindexStmt: 'REINDEX',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW', CopyStmt: 'COPY', CallStmt: 'CALL', NotifyStmt: 'NOTIFY', ListenStmt: 'LISTEN',
  LoadStmt: 'LOAD', CheckPointStmt: 'CHECKPOINT', AlterSystemStmt: 'ALTER SYSTEM', CreateTrigStmt: 'CREATE TRIGGER', RuleStmt: 'CREATE RULE',
  SecLabelStmt: 'SECURITY LABEL', AlterDatabaseSetStmt: 'ALTER DATABASE', AlterRoleSetStmt: 'ALTER ROLE', ReassignOwnedStmt: 'REASSIGN OWNED',
  DropOwnedStmt: 'DROP OWNED', CreateDomainStmt: 'CREATE DOMAIN', CompositeTypeStmt: 'CREATE TYPE', CreateEnumStmt: 'CREATE TYPE',
  AlterObjectSchemaStmt: 'ALTER', AlterOwnerStmt: 'ALTER', CreatePolicyStmt: 'CREATE POLICY', CreatePublicationStmt: 'CREATE PUBLICATION',
  CreateSubscriptionStmt: 'CREATE SUBSCRIPTION', ImportForeignSchemaStmt: 'IMPORT FOREIGN SCHEMA', CreateForeignTableStmt: 'CREATE FOREIGN TABLE',
  PrepareStmt: 'PREPARE', ExecuteStmt: 'EXECUTE', AlterDefaultPrivilegesStmt: 'ALTER DEFAULT PRIVILEGES',
}

export function commandOf(type: string): string {
  return COMMAND[type] ?? type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()
}

/** Whether a read statement touches Fedgres's tables or views. `searchPath` decides unqualified names. */
export function touchesData(node: unknown, searchPath: readonly string[]): boolean {
  // A CTE in scope hides a table of its name, as in PostgreSQL (relationRangeVars).
  const rels = relationRangeVars(node).map((f) => ({ schema: f.schemaname as string | undefined, name: String(f.relname) }))
  for (const r of rels) {
    if (r.schema !== undefined) {
      if (FEDGRES_SCHEMAS.has(r.schema) || (r.schema === 'public' && EVENT_TABLES.has(r.name))) return true
      continue
    }
    if (EVENT_TABLES.has(r.name) && searchPath.includes('public')) return true
    if ((r.name === 'edges' || r.name === 'sources' || r.name === 'fired_alerts') && searchPath.includes('fedgres')) return true
  }
  return false
}

/**
 * Writes hidden inside a read: data-modifying CTEs, SELECT INTO, FOR UPDATE, and pg_notify(),
 * which PostgreSQL treats as NOTIFY (refused on a standby, as here).
 */
function hiddenWrite(node: AstNode): string | undefined {
  let found: string | undefined
  walk(node, (type, f) => {
    if (found) return
    if (type === 'InsertStmt' || type === 'UpdateStmt' || type === 'DeleteStmt' || type === 'MergeStmt') found = commandOf(type)
    else if (type === 'SelectStmt' && f.intoClause) found = 'SELECT INTO'
    else if (type === 'SelectStmt' && Array.isArray(f.lockingClause) && f.lockingClause.length > 0) found = `SELECT ${lockingName(f.lockingClause[0] as AstNode)}`
    else if (type === 'FuncCall' && catalogFunctionName(f) === 'pg_notify') found = 'NOTIFY'
  })
  return found
}

/**
 * A locking clause PostgreSQL refuses while analysing the query (0A000), before any read-only
 * check: with a set operation, DISTINCT, GROUP BY, HAVING, aggregates or window functions.
 */
function lockingNotAllowed(node: AstNode): PgError | undefined {
  let err: PgError | undefined
  walk(node, (type, f) => {
    if (err || type !== 'SelectStmt' || !Array.isArray(f.lockingClause) || f.lockingClause.length === 0) return
    const what = lockingName(f.lockingClause[0] as AstNode)
    let windows = false
    walk([f.targetList, f.sortClause], (t, g) => {
      if (t === 'FuncCall' && g.over) windows = true
    })
    const reason =
      f.op !== undefined && f.op !== 'SETOP_NONE' ? 'UNION/INTERSECT/EXCEPT'
      : f.distinctClause ? 'DISTINCT clause'
      : f.groupClause ? 'GROUP BY clause'
      : f.havingClause ? 'HAVING clause'
      : hasAggregates(f) ? 'aggregate functions'
      : windows ? 'window functions'
      : undefined
    if (reason) err = new PgError(SqlState.FeatureNotSupported, `${what} is not allowed with ${reason}`)
  })
  return err
}

/** FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE or FOR KEY SHARE, as PostgreSQL names the clause. */
function lockingName(clause: AstNode): string {
  const strength = String((clause.LockingClause as AstNode | undefined)?.strength ?? '')
  return { LCS_FORKEYSHARE: 'FOR KEY SHARE', LCS_FORSHARE: 'FOR SHARE', LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE' }[strength] ?? 'FOR UPDATE'
}

/** Settings that carry the session's identity: a client never changes them. */
const IDENTITY_SETTINGS = new Set(['role', 'session_authorization'])

/** A constant argument (a string, a number or NULL, which resets the setting to its default). */
const isConst = (n: unknown) => (n as { A_Const?: unknown } | undefined)?.A_Const !== undefined

/**
 * set_config() calls in a query: whether there are any, and an error if one could change the
 * session's identity (its name is one of those, or is computed and so cannot be checked).
 */
function setConfigCalls(node: AstNode): { any: boolean; denied?: PgError } {
  let any = false
  let denied: PgError | undefined
  walk(node, (type, f) => {
    if (type !== 'FuncCall' || denied) return
    const names = (f.funcname as { String?: { sval?: string } }[] | undefined)?.map((n) => n.String?.sval)
    if (!names || names[names.length - 1] !== 'set_config') return
    any = true
    const args = (f.args as unknown[] | undefined) ?? []
    const name = constString(args[0])
    if (name === undefined) denied = new PgError(SqlState.FeatureNotSupported, 'set_config with a computed parameter name is not supported by Fedgres', { hint: 'Name the parameter with a literal.' })
    else if (GATEWAY_ONLY.has(name.toLowerCase())) denied = new PgError(SqlState.FeatureNotSupported, `set_config of ${name.toLowerCase()} is not supported by Fedgres`, { hint: `Use SET ${name.toLowerCase()}.` })
    else if (IDENTITY_SETTINGS.has(name.toLowerCase())) denied = new PgError(SqlState.InsufficientPrivilege, `permission denied to set parameter "${name}"`)
    else if (defaultOnlySetting(name, constString(args[1]))) denied = defaultOnlySetting(name, constString(args[1]))
    else if (!isConst(args[1]) && computedDefaultOnly(name)) denied = computedDefaultOnly(name)
    else if (name.toLowerCase() === 'client_encoding') {
      // Checked before the shared shadow sees it (client-encoding.ts).
      const value = constString(args[1])
      denied = value === undefined ? new PgError(SqlState.FeatureNotSupported, 'set_config with a computed client_encoding is not supported by Fedgres', { hint: 'Use SET client_encoding.' }) : clientEncodingError(value)
    }
  })
  return { any, denied }
}

/**
 * Classes by statement tree: the parse cache returns the same deeply frozen tree for the same
 * text, and a class depends only on the tree and the search path, so a repeated statement's
 * tree is walked once.
 */
const classes = new WeakMap<AstNode, { path: string; cls: StatementClass }>()

export function classify(s: ParsedStatement, searchPath: readonly string[]): StatementClass {
  if (!Object.isFrozen(s.node)) return classifyTree(s, searchPath)
  const path = searchPath.join(',')
  const kept = classes.get(s.node)
  if (kept?.path === path) return kept.cls
  const cls = classifyTree(s, searchPath)
  classes.set(s.node, { path, cls })
  return cls
}

function classifyTree(s: ParsedStatement, searchPath: readonly string[]): StatementClass {
  const f = s.node[s.type] as AstNode
  switch (s.type) {
    case 'TransactionStmt':
      return { kind: 'transaction', stmt: f }
    case 'VariableSetStmt':
      return { kind: 'set', stmt: f }
    case 'VariableShowStmt':
      return { kind: 'read', target: 'local', setsConfig: false }
    case 'DiscardStmt':
      return { kind: 'discard', target: String(f.target ?? 'DISCARD_ALL').replace('DISCARD_', '') }
    case 'DeallocateStmt':
      return { kind: 'deallocate', name: f.isall ? null : ((f.name as string | undefined) ?? null) }
    case 'DeclareCursorStmt': {
      const conversion = unsafeConversion(s.node)
      return conversion ? { kind: 'denied', error: conversion } : { kind: 'declare', stmt: f }
    }
    case 'FetchStmt':
      return { kind: 'fetch', stmt: f }
    case 'ClosePortalStmt':
      return { kind: 'close-cursor', name: (f.portalname as string | undefined) ?? null }
    case 'ListenStmt':
      return { kind: 'unsupported', command: 'LISTEN' }
    case 'UnlistenStmt':
      return { kind: 'unlisten' }
    case 'SelectStmt':
    case 'ExplainStmt': {
      const lockErr = lockingNotAllowed(s.node)
      if (lockErr) return { kind: 'denied', error: lockErr }
      const w = hiddenWrite(s.node)
      if (w) return { kind: 'write', command: w }
      if (s.type === 'ExplainStmt') {
        const inner = f.query as AstNode
        const innerType = Object.keys(inner)[0]!
        if (innerType !== 'SelectStmt') return { kind: 'write', command: commandOf(innerType) }
      }
      const config = setConfigCalls(s.node)
      if (config.denied) return { kind: 'denied', error: config.denied }
      const refused = refusedCall(s.node) ?? unsafeConversion(s.node)
      if (refused) return { kind: 'denied', error: refused }
      const data = touchesData(s.node, searchPath)
      const system = data ? (systemColumn(s.node) ?? edgeCatalogName(s.node) ?? unsupportedCollation(s.node) ?? currentQueryOverEvents(s.node)) : undefined
      if (system) return { kind: 'denied', error: system }
      return { kind: 'read', target: data ? 'data' : 'local', setsConfig: config.any }
    }
    case 'CopyStmt': {
      if (f.is_from) return { kind: 'write', command: 'COPY FROM' }
      const conversion = unsafeConversion(s.node)
      if (conversion) return { kind: 'denied', error: conversion }
      if (f.filename !== undefined || f.is_program) return { kind: 'denied', error: new PgError(SqlState.InsufficientPrivilege, 'COPY to a file or program is not allowed through Fedgres', { hint: "COPY TO STDOUT (psql's \\copy) writes to the client." }) }
      return { kind: 'copy', stmt: f }
    }
    case 'VacuumStmt':
      return { kind: 'write', command: f.is_vacuumcmd ? 'VACUUM' : 'ANALYZE' }
    case 'PrepareStmt':
    case 'ExecuteStmt':
    case 'CallStmt':
      return { kind: 'unsupported', command: commandOf(s.type) }
    default:
      return { kind: 'write', command: commandOf(s.type) }
  }
}
