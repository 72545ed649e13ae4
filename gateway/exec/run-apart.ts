/**
 * Runs part of a client's statement as a statement of its own, through the same federation
 * (init plans and derived tables: init-plans.ts, derived-tables.ts), and binds its result to
 * the statement as parameters, in binary, exactly as the edges sent it. A part the shadow
 * cannot describe alone reads an outer query; a part that fails on its data is left in the
 * statement, whose own plan then fails, or not, exactly where PostgreSQL's would.
 */
import { PgError } from '../../common/errors/pg-error.js'
import { decodeBackendMessage } from '../../common/pgwire/index.js'
import type { Node } from '../plan/ast.js'
import type { Plan } from '../plan/types.js'
import { FrameError } from '../session/frame-error.js'
import type { ResultStream } from '../session/result.js'
import type { ParsedStatement } from '../session/sql-parse.js'
import type { DataQuery } from './data-executor.js'
import type { Prepared } from './federated-executor.js'

/** What running apart needs of the executor: the same prepare and run as any statement. */
export interface StatementRunner {
  prepare(q: DataQuery, sql: string, select: Record<string, unknown>): Promise<Prepared>
  runNested(p: Prepared): Promise<ResultStream>
}

/** One part as run, for EXPLAIN. */
export interface PartRun {
  /** The first parameter its result is bound to, and how many. */
  readonly param: number
  readonly params: number
  /** What it is (`its value`, `the rows of WITH recent`, ...). */
  readonly what: string
  readonly sql: string
  readonly plan: Plan
  readonly rows: number
  readonly ms: number
  /** Its own parts. */
  readonly parts: readonly PartRun[]
}

/** The statement with parts bound, planned with these parameters instead of the client's. */
export interface BoundStatement {
  readonly select: Node
  readonly q: DataQuery
  readonly paramTypes: readonly number[]
  readonly paramFormats: readonly number[]
  readonly parts: readonly PartRun[]
  readonly notices: readonly Buffer[]
}

/** Parts that read an outer query (the shadow could not describe them alone), by search_path, parameter types and SQL. */
const correlated = new Set<string>()

/** An error the statement as written would not avoid: the network's or the client's, not the data's. */
const propagates = (e: unknown) => e instanceof PgError && /^(08|57)/.test(e.code)

/** The parameters a statement is bound with so far, and what was run to get them. */
export class Binding {
  readonly types: number[]
  readonly params: (Buffer | null)[]
  readonly formats: number[]
  readonly parts: PartRun[] = []
  readonly notices: Buffer[] = []

  constructor(
    readonly exec: StatementRunner,
    readonly q: DataQuery,
    /** The client's parameters' types and formats (what a part is described and run with). */
    readonly clientTypes: readonly number[],
    readonly clientFormats: readonly number[],
  ) {
    this.types = [...clientTypes]
    this.params = [...q.params]
    this.formats = [...clientFormats]
  }

  /** Plans `select` as a statement of its own; undefined if it cannot stand alone. */
  async prepare(select: Node, sql: string): Promise<Prepared | undefined> {
    const key = `${this.q.searchPath.join(',')}\0${this.clientTypes.join(',')}\0${sql}`
    if (correlated.has(key)) return undefined
    const sub: DataQuery = {
      ...this.q,
      statement: { node: { SelectStmt: select }, type: 'SelectStmt', text: sql, offset: 0 } as ParsedStatement,
      statementName: undefined,
      paramTypes: this.clientTypes,
      paramFormats: this.clientFormats,
      resultFormats: [1],
    }
    try {
      return await this.exec.prepare(sub, sql, select)
    } catch (e) {
      if (e instanceof FrameError) {
        if (correlated.size > 2000) correlated.clear()
        correlated.add(key)
        return undefined
      }
      if (propagates(e)) throw e
      return undefined
    }
  }

  /** Every row's values (copied out of their frames); undefined if the part failed on its data. */
  async rows(p: Prepared): Promise<(Buffer | null)[][] | undefined> {
    let result: ResultStream | undefined
    const out: (Buffer | null)[][] = []
    try {
      result = await this.exec.runNested(p)
      for (let frame = await result.next(); frame; frame = await result.next()) {
        const m = decodeBackendMessage(frame)
        if (m.type === 'DataRow') out.push(m.values().map((v) => (v === null ? null : Buffer.from(v))))
      }
    } catch (e) {
      if (propagates(e)) throw e
      return undefined
    } finally {
      result?.close()
    }
    this.notices.push(...result!.notices)
    return out
  }

  /** Binds one more parameter (binary); returns its number. */
  bind(type: number, value: Buffer | null): number {
    this.types.push(type)
    this.params.push(value)
    this.formats.push(1)
    return this.types.length
  }

  bound(select: Node): BoundStatement {
    const q: DataQuery = { ...this.q, params: this.params, paramTypes: this.types, paramFormats: this.formats }
    return { select, q, paramTypes: this.types, paramFormats: this.formats, parts: this.parts, notices: this.notices }
  }
}

/**
 * `fn` of every item at once, results in order. Every run is let finish (each drains its own
 * edges' replies) before the first failure, if any, is thrown.
 */
export async function concurrently<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const settled = await Promise.allSettled(items.map(fn))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value)
}
