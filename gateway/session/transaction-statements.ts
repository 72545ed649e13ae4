/**
 * Transaction control: BEGIN, COMMIT and ROLLBACK (AND CHAIN), savepoints and SET TRANSACTION,
 * kept by the gateway (the catalog engine runs each statement in a transaction of its own), with
 * PostgreSQL's warnings and errors.
 */
import { PgError, featureNotSupported } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { quoteLiteral } from '../../common/sql-quote.js'
import type { StatementClass } from './classify.js'
import { command, notice } from './command-reply.js'
import { FrameError } from './frame-error.js'
import type { Session } from './session.js'
import { shadowRow } from './shadow-reads.js'
import { constString, type AstNode, type ParsedStatement } from './sql-parse.js'
import type { Execution } from './statement-runner.js'
import { noTransaction, warning } from './transaction.js'

export async function runTransaction(s: Session, stmt: AstNode): Promise<Execution> {
  const kind = String(stmt.kind)
  switch (kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START': {
      if (s.implicit !== 'none') {
        // The implicit transaction becomes the block, with what its statements did so far.
        const modes = transactionModes(stmt)
        if (s.snapshotTaken) await afterQueryModes(s, modes)
        s.implicit = 'none'
        s.txn = 'open'
        for (const [name, value] of modes) holdMode(s, name, value)
        return command(kind === 'TRANS_STMT_BEGIN' ? 'BEGIN' : 'START TRANSACTION')
      }
      if (s.txn !== 'idle') return command('BEGIN', [notice(warning('25001', 'there is already a transaction in progress'))])
      s.beginBlock()
      // The block's modes (ISOLATION LEVEL, READ ONLY, DEFERRABLE) hold for its statements.
      for (const [name, value] of transactionModes(stmt)) holdMode(s, name, value)
      return command(kind === 'TRANS_STMT_BEGIN' ? 'BEGIN' : 'START TRANSACTION')
    }
    case 'TRANS_STMT_COMMIT':
    case 'TRANS_STMT_ROLLBACK': {
      const commit = kind === 'TRANS_STMT_COMMIT'
      if (stmt.chain && (s.txn === 'idle' || s.implicit !== 'none')) throw noTransaction(commit ? 'COMMIT AND CHAIN' : 'ROLLBACK AND CHAIN')
      if (s.implicit !== 'none') {
        // It ends the implicit transaction, with PostgreSQL's warning that there was no block.
        s.endImplicit(commit)
        return command(commit ? 'COMMIT' : 'ROLLBACK', [notice(warning('25P01', 'there is no transaction in progress'))])
      }
      if (s.txn === 'idle') return command(commit ? 'COMMIT' : 'ROLLBACK', [notice(warning('25P01', 'there is no transaction in progress'))])
      const tag = commit && s.txn === 'open' ? 'COMMIT' : 'ROLLBACK'
      // AND CHAIN: a new block at once, with the same isolation level and DEFERRABLE.
      const chained = stmt.chain ? await currentModes(s) : undefined
      if (tag === 'COMMIT') s.settings.commit()
      else s.settings.rollback()
      s.txn = 'idle'
      s.endTransaction(tag === 'COMMIT')
      if (chained) {
        s.beginBlock()
        for (const [name, value] of chained) holdMode(s, name, value, true)
      }
      return command(tag)
    }
    case 'TRANS_STMT_SAVEPOINT': {
      if (s.txn === 'idle' || s.implicit === 'block') throw noTransaction('SAVEPOINT')
      s.settings.savepoint(String(stmt.savepoint_name))
      s.cursors.savepoint()
      return command('SAVEPOINT')
    }
    case 'TRANS_STMT_RELEASE':
    case 'TRANS_STMT_ROLLBACK_TO': {
      const name = String(stmt.savepoint_name)
      const release = kind === 'TRANS_STMT_RELEASE'
      if (s.txn === 'idle' || s.implicit === 'block') throw noTransaction(release ? 'RELEASE SAVEPOINT' : 'ROLLBACK TO SAVEPOINT')
      const depth = release ? s.settings.release(name) : s.settings.rollbackTo(name)
      if (depth < 0) throw new PgError(SqlState.InvalidSavepointSpecification, `savepoint "${name}" does not exist`)
      if (release) s.cursors.release(depth)
      else {
        s.cursors.rollbackTo(depth)
        s.extended().closeRolledBack()
        s.txn = 'open'
      }
      return command(release ? 'RELEASE' : 'ROLLBACK')
    }
    case 'TRANS_STMT_PREPARE':
      if (s.implicit === 'none') return prepareTransaction(s)
      throw featureNotSupported('two-phase commit')
    case 'TRANS_STMT_COMMIT_PREPARED':
    case 'TRANS_STMT_ROLLBACK_PREPARED': {
      const what = kind === 'TRANS_STMT_COMMIT_PREPARED' ? 'COMMIT PREPARED' : 'ROLLBACK PREPARED'
      if (s.txn !== 'idle' || s.implicit === 'block') throw new PgError(SqlState.ActiveSqlTransaction, `${what} cannot run inside a transaction block`)
      throw new PgError(SqlState.UndefinedObject, `prepared transaction with identifier "${String(stmt.gid ?? '')}" does not exist`)
    }
    default:
      throw featureNotSupported('two-phase commit')
  }
}

/**
 * PREPARE TRANSACTION, as PostgreSQL answers it with max_prepared_transactions = 0 (its default,
 * and the gateway's: it keeps no prepared transactions). Like ROLLBACK it ends the block: the
 * transaction is rolled back, with the error 55000 if it could have been prepared.
 */
function prepareTransaction(s: Session): Execution {
  if (s.txn === 'idle') return command('ROLLBACK', [notice(warning('25P01', 'there is no transaction in progress'))])
  const open = s.txn === 'open'
  s.settings.rollback()
  s.txn = 'idle'
  s.endTransaction(false)
  if (!open) return command('ROLLBACK')
  throw new PgError(SqlState.ObjectNotInPrerequisiteState, 'prepared transactions are disabled', { hint: 'Set "max_prepared_transactions" to a nonzero value.' })
}

/**
 * Once a statement of the transaction has read (taken its snapshot), or inside a savepoint,
 * PostgreSQL refuses to change its isolation level or to touch DEFERRABLE (25001). (READ
 * WRITE is let be: Fedgres sessions stay read-only whatever the mode, holdMode.)
 */
async function afterQueryModes(s: Session, modes: [string, string][], sub = false): Promise<void> {
  if (modes.length === 0) return
  const current = await shadowRow(s.runner, s.owner(), "SELECT pg_catalog.current_setting('transaction_isolation')")
  const fail = (message: string) => new PgError(SqlState.ActiveSqlTransaction, message)
  for (const [name, value] of modes) {
    if (name === 'transaction_isolation' && value.toLowerCase() !== current[0]) {
      throw fail(s.snapshotTaken ? 'SET TRANSACTION ISOLATION LEVEL must be called before any query' : 'SET TRANSACTION ISOLATION LEVEL must not be called in a subtransaction')
    }
    if (name === 'transaction_deferrable') throw fail(sub ? 'SET TRANSACTION [NOT] DEFERRABLE cannot be called within a subtransaction' : 'SET TRANSACTION [NOT] DEFERRABLE must be called before any query')
  }
}

/** The open transaction's isolation level and DEFERRABLE, as modes (for AND CHAIN). */
async function currentModes(s: Session): Promise<[string, string][]> {
  const [iso, deferrable] = await shadowRow(s.runner, s.owner(), "SELECT pg_catalog.current_setting('transaction_isolation'), pg_catalog.current_setting('transaction_deferrable')")
  return [['transaction_isolation', iso ?? 'read committed'], ['transaction_deferrable', deferrable ?? 'off']]
}

/** SET TRANSACTION: the block's (or an extended-protocol batch's) modes, refused once it has read or in a savepoint. */
export async function setTransaction(s: Session, stmt: ParsedStatement, f: AstNode): Promise<Execution> {
    const outside = s.txn === 'idle' ? [notice(warning('25P01', 'SET TRANSACTION can only be used in transaction blocks'))] : []
    // Outside a block it still holds for the implicit transaction of an extended-protocol batch.
    if (s.txn === 'idle' && s.implicit !== 'sync') return command('SET', outside)
    const modes = transactionModes(f, f.args)
    if (modes.some(([mode]) => mode === '')) {
      // Not only modes (SET TRANSACTION SNAPSHOT): PostgreSQL's own check gives the error.
      const rest = stmt.text.replace(/^\s*SET\s+TRANSACTION\s+/i, '')
      const check = await s.runner.simple(s.owner(), `SET SESSION CHARACTERISTICS AS TRANSACTION ${rest}`)
      if (check.error) throw new FrameError(check.error)
    }
    const sub = s.settings.savepointDepth > 0
    if (s.snapshotTaken || sub) await afterQueryModes(s, modes, sub)
    for (const [mode, value] of modes) holdMode(s, mode, value)
    return command('SET', outside)
}

export function endsFailedBlock(cls: StatementClass): boolean {
  if (cls.kind !== 'transaction') return false
  const kind = String(cls.stmt.kind)
  // PREPARE TRANSACTION of a failed block rolls it back, as ROLLBACK does.
  return kind === 'TRANS_STMT_ROLLBACK' || kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK_TO' || kind === 'TRANS_STMT_PREPARE'
}

/**
 * The transaction modes of a BEGIN or SET TRANSACTION, as settings: [transaction_isolation,
 * 'serializable'], [transaction_read_only, 'on'], ...; ['', ''] for anything else (SNAPSHOT).
 */
export function transactionModes(stmt: AstNode, list: unknown = stmt.options): [string, string][] {
  const out: [string, string][] = []
  for (const o of (list as { DefElem?: AstNode }[] | undefined) ?? []) {
    const name = String(o.DefElem?.defname ?? '')
    const arg = o.DefElem?.arg as AstNode | undefined
    const on = ((arg?.A_Const as AstNode | undefined)?.ival as { ival?: number } | undefined)?.ival ? 'on' : 'off'
    if (name === 'transaction_isolation') out.push([name, constString(arg) ?? ''])
    else if (name === 'transaction_read_only' || name === 'transaction_deferrable') out.push([name, on])
    else out.push(['', ''])
  }
  return out
}

/**
 * A transaction mode for the rest of the block, as the transaction's default (the catalog engine
 * runs each statement in a transaction of its own). READ ONLY / READ WRITE is left as it is:
 * Fedgres sessions are read-only whatever the mode, and default_transaction_read_only is reported
 * to the client (ParameterStatus), where a transaction's mode must not show.
 */
function holdMode(s: Session, mode: string, value: string, chained = false): void {
  if (mode === 'transaction_isolation' || mode === 'transaction_deferrable') s.settings.setMode(mode, `SET default_${mode} = ${quoteLiteral(value)}`, chained)
}
