/**
 * An edge's reply to a statement's batch (edge-statements.ts), but for the statement's rows,
 * which the shard queues itself (shard-stream.ts), so a row costs no call here: how far the
 * batch got (the output settings first, for an edge that did not confirm them; the Parse that
 * prepares the statement's name on the connection; the statement's Bind and CommandComplete),
 * and the edge's first SQL error.
 *
 * A named statement the edge refuses (0A000) before any row is run again, once (retryNamed).
 */
import type { PgError } from '../../common/errors/pg-error.js'
import { SqlState } from '../../common/errors/sqlstate.js'
import { BackendCode, decodeBackendMessage } from '../../common/pgwire/index.js'
import { remoteError } from '../session/shadow-exchange.js'
import { markAtBind } from './bind-errors.js'
import type { ConnectionStatements } from './edge-statements.js'

export class BatchReply {
  /** CommandCompletes so far: the statement's rows come once the prelude's are in. */
  completes = 0
  /** The edge's first SQL error. */
  sqlError: PgError | undefined
  /** The statement's own Parse is the batch's last; once it completed, the name is prepared. */
  readonly #parses: number
  #parsed = 0
  #binds = 0

  constructor(
    private readonly statements: ConnectionStatements,
    /** Statements the batch runs before the statement (1 when it sets the output settings first). */
    readonly prelude: number,
    private readonly name: string,
    private readonly parse: boolean,
  ) {
    this.#parses = prelude + (parse ? 1 : 0)
  }

  /** A message of the reply other than DataRow. */
  message(f: Buffer): void {
    const t = f[0]
    if (t === BackendCode.CommandComplete) {
      this.completes++
    } else if (t === BackendCode.ParseComplete) {
      if (++this.#parsed === this.#parses && this.parse && this.name !== '') this.statements.parsed(this.name)
    } else if (t === BackendCode.BindComplete) {
      this.#binds++
    } else if (t === BackendCode.ErrorResponse) {
      const m = decodeBackendMessage(f)
      if (m.type === 'ErrorResponse' && !this.sqlError) {
        this.sqlError = remoteError(m.fields)
        // Before the statement's BindComplete: a parameter's value or planning failed.
        if (this.#binds <= this.prelude) markAtBind(this.sqlError)
      }
    }
  }
}

/**
 * Whether a batch that failed with `sqlError` runs again on its connection: the statements to
 * close first, or undefined. Only a named statement the edge refused (0A000) runs again.
 */
export function retryNamed(sqlError: PgError | undefined, statements: ConnectionStatements, name: string | undefined): string[] | undefined {
  if (sqlError?.code !== SqlState.FeatureNotSupported || !name || !statements.named) return undefined
  if (statements.has(name)) {
    // The edge's tables changed under a prepared statement ("cached plan must not change
    // result type", after an upgrade added columns): it is prepared again, once.
    statements.forget(name)
    return [name]
  }
  // An edge agent of an older version keeps no named statements: this connection
  // runs its statements unnamed from now on.
  statements.disable()
  return []
}
