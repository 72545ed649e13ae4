import assert from 'node:assert/strict'
import { test } from 'node:test'
import { feedFormats, feedTexts } from './exact-feed.js'

/** A DataRow frame of binary or text column values. */
function dataRow(values: (Buffer | null)[]): Buffer {
  const parts = values.map((v) => {
    const len = Buffer.alloc(4)
    len.writeInt32BE(v === null ? -1 : v.length)
    return v === null ? len : Buffer.concat([len, v])
  })
  const body = Buffer.concat([Buffer.from([0, values.length]), ...parts])
  const head = Buffer.alloc(5)
  head.write('D')
  head.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([head, body])
}
const f8 = (v: number) => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return b }
const f4 = (v: number) => { const b = Buffer.alloc(4); b.writeFloatBE(v); return b }
/** A binary float8[] with these dimensions and lower bounds. */
function f8Array(dims: [number, number][], values: (number | null)[]): Buffer {
  const head = Buffer.alloc(12 + 8 * dims.length)
  head.writeInt32BE(dims.length, 0)
  head.writeInt32BE(values.includes(null) ? 1 : 0, 4)
  head.writeInt32BE(701, 8)
  dims.forEach(([n, lb], i) => { head.writeInt32BE(n, 12 + 8 * i); head.writeInt32BE(lb, 16 + 8 * i) })
  return Buffer.concat([head, ...values.map((v) => (v === null ? Buffer.from([0xff, 0xff, 0xff, 0xff]) : Buffer.concat([Buffer.from([0, 0, 0, 8]), f8(v)])))])
}

const iso = (extraFloatDigits: string | undefined) => ({ extraFloatDigits, dateStyle: 'ISO, MDY' })
const formatsOf = (types: (string | undefined)[], out: { extraFloatDigits: string | undefined; dateStyle: string | undefined }) => feedFormats(types, out).formats

test('floats go binary only when extra_float_digits would round them', () => {
  assert.deepEqual(formatsOf(['double precision', 'text', 'real[]', 'bigint'], iso('0')), [1, 0, 1, 0])
  assert.deepEqual(formatsOf(['double precision', 'text'], iso('1')), [])
  assert.deepEqual(formatsOf(['double precision'], iso('3')), [])
  assert.deepEqual(formatsOf(['text', 'bigint'], iso('-15')), [])
  assert.deepEqual(formatsOf(['real', undefined], iso(undefined)), [])
})

test('dates and times go binary only under a date style other than ISO', () => {
  const types = ['timestamptz', 'text', 'date', 'timestamp[]', 'time', 'interval', 'double precision']
  assert.deepEqual(formatsOf(types, iso('1')), [])
  assert.deepEqual(formatsOf(types, { extraFloatDigits: '1', dateStyle: 'SQL, DMY' }), [1, 0, 1, 1, 0, 0, 0])
  assert.deepEqual(formatsOf(types, { extraFloatDigits: '0', dateStyle: 'German, DMY' }), [1, 0, 1, 1, 0, 0, 1])
  assert.deepEqual(formatsOf(types, { extraFloatDigits: '1', dateStyle: 'Postgres, MDY' }), [1, 0, 1, 1, 0, 0, 0])
})

test('binary floats come out as text that reads back exactly, as PostgreSQL names the special values', () => {
  const row = dataRow([f8(1 + 1e-16 * 3), Buffer.from('node-1'), f4(0.1), f8(-0), f8(NaN), f8(-Infinity), null, f8Array([[2, 1], [2, 0]], [1.5, null, 1e-7, 2 / 3]), f8Array([], [])])
  const types = ['double precision', 'text', 'real', 'double precision', 'double precision', 'double precision', 'double precision', 'double precision[]', 'double precision[]']
  const out = feedTexts(row, feedFormats(types, iso('0')))
  assert.deepEqual(out, [String(1 + 3e-16), 'node-1', String(Math.fround(0.1)), '-0', 'NaN', '-Infinity', null, `[1:2][0:1]={{1.5,NULL},{1e-7,${2 / 3}}}`, '{}'])
  assert.equal(Number(out[0]), 1 + 3e-16)
  assert.equal(Math.fround(Number(out[2])), Math.fround(0.1))
  assert.deepEqual(feedTexts(dataRow([Buffer.from('1.5'), null]), feedFormats(['double precision', 'text'], iso('1'))), ['1.5', null])
})

const i4 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b }
const i8 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return b }
/** A binary one-dimensional array of 8-byte values (timestamptz, OID 1184). */
const i8Array = (values: (bigint | null)[]) =>
  Buffer.concat([i4(1), i4(values.includes(null) ? 1 : 0), i4(1184), i4(values.length), i4(1), ...values.map((v) => (v === null ? i4(-1) : Buffer.concat([i4(8), i8(v)])))])

test('binary dates and times come out in the ISO style, a timestamptz in UTC, BC and infinities as PostgreSQL writes them', () => {
  // Expected texts are PostgreSQL 18's own output (DateStyle ISO, TimeZone UTC) of the same values;
  // a check against PostgreSQL of 5,600 random values, read back under DateStyle German and
  // TimeZone Asia/Kolkata, gave the same binary values back.
  const row = dataRow([i8(0n), i8(1234567890123456n), i8(-211813488000000000n), i8(-1n), i4(-730120), i4(0), i4(0x7fffffff), i8(-0x8000000000000000n), i8Array([0n, null, 1n])])
  const types = ['timestamptz', 'timestamptz', 'timestamptz', 'timestamp', 'date', 'date', 'date', 'timestamp', 'timestamptz[]']
  assert.deepEqual(feedTexts(row, feedFormats(types, { extraFloatDigits: '1', dateStyle: 'German, DMY' })), [
    '2000-01-01 00:00:00+00',
    '2039-02-13 23:31:30.123456+00',
    '4714-11-24 00:00:00+00 BC',
    '1999-12-31 23:59:59.999999',
    '0001-12-31 BC',
    '2000-01-01',
    'infinity',
    '-infinity',
    '{"2000-01-01 00:00:00+00",NULL,"2000-01-01 00:00:00.000001+00"}',
  ])
})

test('a date beyond Date\'s range (PostgreSQL goes to 294276 AD) is still written exactly', () => {
  const row = dataRow([i8(9223371331199999999n), i4(2145031948)])
  assert.deepEqual(feedTexts(row, feedFormats(['timestamp', 'date'], { extraFloatDigits: '1', dateStyle: 'SQL, MDY' })), ['294276-12-31 23:59:59.999999', '5874897-12-31'])
})
