/**
 * Transaction blocks, kept by the gateway: nothing is written anywhere, but clients expect
 * PostgreSQL's statuses, tags and warnings (pgjdbc, Npgsql and psycopg all track them).
 */
import { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import type { TransactionStatus } from '../../common/pgwire/index.js'

export type TxnState = 'idle' | 'open' | 'failed'

export const statusOf = (s: TxnState): TransactionStatus => (s === 'idle' ? 'I' : s === 'open' ? 'T' : 'E')

export const abortedError = () =>
  new PgError(SqlState.InFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')

export const warning = (code: string, message: string) => ({ severity: 'WARNING', code, message })

export const noTransaction = (what: string) => new PgError(SqlState.NoActiveSqlTransaction, `${what} can only be used in transaction blocks`)
