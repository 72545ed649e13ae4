/**
 * The codec against a real PostgreSQL backend: PGlite's execProtocolRaw takes frontend
 * messages (no startup message) and returns the backend's bytes, so our encoder's output
 * must be accepted and our decoder must understand the answer.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { PGlite } from '@electric-sql/pglite'
import { BackendDecoder, type BackendMessage } from './backend-messages.js'
import { DataRow } from './data-row.js'
import { BackendEncoder } from './backend-encoder.js'
import { FrontendEncoder } from './frontend-encoder.js'
import { int32 } from './test-helpers.js'

let db: PGlite
const enc = new FrontendEncoder()

before(async () => {
  db = await PGlite.create() // ~3 s: one instance for the whole file
})

after(async () => {
  await db.close()
})

async function roundTrip(bytes: Buffer): Promise<BackendMessage[]> {
  const decoder = new BackendDecoder()
  decoder.push(await db.execProtocolRaw(bytes))
  const out: BackendMessage[] = []
  for (let m = decoder.next(); m !== undefined; m = decoder.next()) out.push(m)
  return out
}

const types = (ms: BackendMessage[]) => ms.map((m) => m.type)
const rows = (ms: BackendMessage[]) => ms.filter((m): m is DataRow => m instanceof DataRow)
const tags = (ms: BackendMessage[]) => ms.flatMap((m) => (m.type === 'CommandComplete' ? [m.tag] : []))
const last = (ms: BackendMessage[]) => ms[ms.length - 1]

test('extended protocol: binary parameters, mixed result formats, Execute with maxRows', async () => {
  enc.parse('', 'select g, $1::int4 + g as n, $2::text as t from generate_series(1, 3) g', [23, 25])
  enc.bind('', '', [1, 0], [int32(10), 'héllo ✓'], [0, 1, 0])
  enc.describe('P', '').execute('', 2).execute('', 0).sync()
  const ms = await roundTrip(enc.take())
  assert.deepEqual(types(ms), [
    'ParseComplete', 'BindComplete', 'RowDescription', 'DataRow', 'DataRow', 'PortalSuspended', 'DataRow', 'CommandComplete', 'ReadyForQuery',
  ])
  const desc = ms[2]!
  assert.ok(desc.type === 'RowDescription')
  assert.deepEqual(desc.fields.map((f) => [f.name, f.typeOid, f.typeSize, f.format]), [['g', 23, 4, 0], ['n', 23, 4, 1], ['t', 25, -1, 0]])
  const values = rows(ms).map((r) => r.values())
  assert.deepEqual(values.map(([g]) => g!.toString()), ['1', '2', '3'])
  assert.deepEqual(values.map(([, n]) => n!.readInt32BE(0)), [11, 12, 13])
  assert.deepEqual(values.map(([, , t]) => t!.toString()), ['héllo ✓', 'héllo ✓', 'héllo ✓'])
  assert.deepEqual(tags(ms), ['SELECT 1']) // the second Execute returned the last row
  assert.deepEqual(last(ms), { type: 'ReadyForQuery', status: 'I' })
})

test('a named statement: Describe gives parameter and row descriptions, Close closes it', async () => {
  const ms = await roundTrip(enc.parse('s1', 'select $1::int8 as x, null::text as y').describe('S', 's1').close('S', 's1').sync().take())
  assert.deepEqual(types(ms), ['ParseComplete', 'ParameterDescription', 'RowDescription', 'CloseComplete', 'ReadyForQuery'])
  assert.deepEqual(ms[1], { type: 'ParameterDescription', oids: [20] })
  assert.ok(ms[2]!.type === 'RowDescription')
  assert.deepEqual(ms[2].fields.map((f) => [f.name, f.typeOid]), [['x', 20], ['y', 25]])
})

test('binary results decode to PostgreSQL binary representations', async () => {
  enc.parse('', "select 1::int4, 'héllo ✓'::text, 3.5::float8, true, null::int4, -2::int8")
  const ms = await roundTrip(enc.bind('', '', [], [], [1]).execute('', 0).sync().take())
  const [row] = rows(ms)
  const [i4, text, f8, bool, nul, i8] = row!.values()
  assert.equal(i4!.readInt32BE(0), 1)
  assert.equal(text!.toString(), 'héllo ✓')
  assert.equal(f8!.readDoubleBE(0), 3.5)
  assert.deepEqual([...bool!], [1])
  assert.equal(nul, null)
  assert.equal(i8!.readBigInt64BE(0), -2n)
})

test('a simple query with two statements', async () => {
  const ms = await roundTrip(enc.query("select 1::int4, 'héllo ✓'::text; select 2 as two").take())
  assert.deepEqual(types(ms), ['RowDescription', 'DataRow', 'CommandComplete', 'RowDescription', 'DataRow', 'CommandComplete', 'ReadyForQuery'])
  assert.deepEqual(rows(ms).map((r) => r.textValues()), [['1', 'héllo ✓'], ['2']])
  assert.deepEqual(tags(ms), ['SELECT 1', 'SELECT 1'])
})

test('an error skips to Sync, then the session recovers', async () => {
  enc.parse('', 'select nope from nowhere').bind('', '').execute('', 0).sync()
  const ms = await roundTrip(enc.take())
  assert.deepEqual(types(ms), ['ErrorResponse', 'ReadyForQuery'])
  const err = ms[0]!
  assert.ok(err.type === 'ErrorResponse')
  assert.equal(err.fields.code, '42P01')
  assert.equal(err.fields.severity, 'ERROR')
  assert.equal(err.fields.severityNonLocalized, 'ERROR')
  assert.match(err.fields.message, /relation "nowhere" does not exist/)
  assert.equal(err.fields.position, '18')
  assert.ok(err.fields.file !== undefined && err.fields.routine !== undefined)
  const again = await roundTrip(enc.query('select 1').take())
  assert.deepEqual(rows(again).map((r) => r.textValues()), [['1']])
})

test('a failed transaction block reports status E until rollback', async () => {
  const failed = await roundTrip(enc.query('begin').query('select 1/0').take())
  assert.deepEqual(
    failed.flatMap((m) => (m.type === 'ReadyForQuery' ? [m.status] : m.type === 'ErrorResponse' ? [m.fields.code] : [])),
    ['T', '22012', 'E'],
  )
  const rolledBack = await roundTrip(enc.query('rollback').take())
  assert.deepEqual(rolledBack, [{ type: 'CommandComplete', tag: 'ROLLBACK' }, { type: 'ReadyForQuery', status: 'I' }])
})

test('empty query, notices, and COPY TO STDOUT', async () => {
  assert.deepEqual(types(await roundTrip(enc.query('').take())), ['EmptyQueryResponse', 'ReadyForQuery'])
  const notice = (await roundTrip(enc.query("do $$ begin raise notice 'hi %', 1; end $$").take()))[0]!
  assert.ok(notice.type === 'NoticeResponse')
  assert.equal(notice.fields.message, 'hi 1')
  assert.equal(notice.fields.severityNonLocalized, 'NOTICE')
  const copy = await roundTrip(enc.query("copy (select 1, 'a') to stdout").take())
  assert.deepEqual(copy, [
    { type: 'CopyOutResponse', format: 0, columnFormats: [0, 0] },
    { type: 'CopyData', data: Buffer.from('1\ta\n') },
    { type: 'CopyDone' },
    { type: 'CommandComplete', tag: 'COPY 1' },
    { type: 'ReadyForQuery', status: 'I' },
  ])
})

test('DataRow frames pass through the backend encoder byte for byte', async () => {
  const out = await db.execProtocolRaw(enc.query("select g, 'x' || g from generate_series(1, 50) g").take())
  const decoder = new BackendDecoder()
  decoder.push(out)
  const backend = new BackendEncoder()
  const originals: Buffer[] = []
  for (let m = decoder.next(); m !== undefined; m = decoder.next()) {
    if (m instanceof DataRow) {
      originals.push(m.frame)
      backend.dataRowFrame(m.frame)
    }
  }
  assert.equal(originals.length, 50)
  assert.ok(backend.take().equals(Buffer.concat(originals)))
})
