/**
 * FETCH in binary. A cursor's rows are written out in text when it is declared (cursors.ts), but
 * a FETCH bound through the extended protocol may ask for binary columns: pgjdbc does once a
 * statement is prepared on the server (its prepareThreshold), and read text where it asked for
 * a 4-byte int (ArrayIndexOutOfBoundsException). The catalog engine turns the text back into
 * values of the columns' types and writes them in the formats asked for.
 */
import { decodeBackendMessage, BackendEncoder } from '../../common/pgwire/index.js'
import type { FormatCode } from '../../common/pgwire/index.js'
import { feedParams } from '../exec/local-engine.js'
import type { ShadowOwner } from '../catalog/shadow.js'
import { FrameError } from './frame-error.js'
import { rowTexts, type ShadowRunner } from './shadow-exchange.js'

const OID_ARRAY = 1028

/** The rows and RowDescription of a FETCH in the result formats its Bind asked for. */
export async function inFormats(runner: ShadowRunner, owner: ShadowOwner, rowDescription: Buffer, rows: readonly Buffer[], resultFormats: readonly number[]): Promise<{ rowDescription: Buffer; rows: Buffer[] }> {
  const rd = decodeBackendMessage(rowDescription)
  if (rd.type !== 'RowDescription') return { rowDescription, rows: [...rows] }
  const formats = rd.fields.map((_, i) => (resultFormats.length === 1 ? resultFormats[0]! : (resultFormats[i] ?? 0)) as FormatCode)
  const described = new BackendEncoder().rowDescription(rd.fields.map((f, i) => ({ ...f, format: formats[i]! }))).take()
  if (!formats.includes(1) || rd.fields.length === 0) return { rowDescription: described, rows: [...rows] }
  const names = await runner.bound(owner, {
    sql: 'SELECT pg_catalog.format_type(t, NULL) FROM unnest($1::pg_catalog.oid[]) WITH ORDINALITY AS x(t, i) ORDER BY i',
    paramTypes: [OID_ARRAY],
    params: [Buffer.from(`{${rd.fields.map((f) => f.typeOid).join(',')}}`)],
    paramFormats: [0],
    resultFormats: [],
  })
  if (names.error) throw new FrameError(names.error)
  const types = (names.result?.rows ?? []).map((r) => rowTexts(r)[0] ?? 'text')
  // Each column read as an array of its type (an array-typed column row by row), in order.
  const arrays = types.map((t, i) => `$${i + 1}::text[]${t.endsWith('[]') ? '' : `::${t}[]`}`)
  const columns = types.map((t, i) => (t.endsWith('[]') ? `u.c${i}::${t}` : `u.c${i}`))
  const sql = `SELECT ${columns.join(', ')} FROM unnest(${arrays.join(', ')}) WITH ORDINALITY AS u(${types.map((_, i) => `c${i}`).join(', ')}, n) ORDER BY u.n`
  const feed = feedParams({ columns: types.length, rows: rows.map((r) => rowTexts(r)) })
  const out = await runner.bound(owner, {
    sql,
    paramTypes: feed.types.slice(0, types.length),
    params: feed.values.slice(0, types.length),
    paramFormats: types.map(() => 0),
    resultFormats: formats,
  })
  if (out.error) throw new FrameError(out.error)
  return { rowDescription: described, rows: [...(out.result?.rows ?? [])] }
}
