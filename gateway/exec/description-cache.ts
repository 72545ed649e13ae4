/**
 * Parameter types and RowDescription from the shadow. The catalog never changes while the
 * gateway runs, so a statement's description depends only on its text, parameter types,
 * result formats and search_path: it is cached. (Bind-time errors in parameter values then
 * come from the edges, which are the same PostgreSQL.)
 */
import { decodeBackendMessage } from '../../common/pgwire/index.js'
import { FrameError } from '../session/frame-error.js'
import type { DataQuery } from './data-executor.js'

const DESCRIBE_CACHE = 2000

export interface Description {
  paramTypes: number[]
  rd: Buffer | null
  columnTypes: number[]
}

/** One executor's descriptions, by search_path, parameter types, result formats and text; the oldest goes first. */
export class DescriptionCache {
  readonly #described = new Map<string, Description>()

  async describe(q: DataQuery, sql: string): Promise<Description> {
    const key = `${q.searchPath.join(',')}\0${q.paramTypes.join(',')}\0${q.resultFormats.join(',')}\0${sql}`
    const hit = this.#described.get(key)
    if (hit) return hit
    const probe = await q.runner.probe(q.owner, { sql, statementName: q.statementName, paramTypes: q.paramTypes, params: q.params, paramFormats: q.paramFormats, resultFormats: q.resultFormats })
    if (probe.error) throw new FrameError(probe.error)
    const pd = probe.paramDescription ? decodeBackendMessage(probe.paramDescription) : undefined
    const paramTypes = pd?.type === 'ParameterDescription' ? pd.oids : [...q.paramTypes]
    const rd = probe.result?.rowDescription ?? null
    const fields = rd ? decodeBackendMessage(rd) : undefined
    const columnTypes = fields?.type === 'RowDescription' ? fields.fields.map((f) => f.typeOid) : []
    const out = { paramTypes, rd, columnTypes }
    if (this.#described.size >= DESCRIBE_CACHE) this.#described.delete(this.#described.keys().next().value!)
    this.#described.set(key, out)
    return out
  }
}
