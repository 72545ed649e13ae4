import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exactFloatFormats, feedTexts } from './exact-floats.js'

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

test('floats go binary only when extra_float_digits would round them', () => {
  assert.deepEqual(exactFloatFormats(['double precision', 'text', 'real[]', 'bigint'], '0'), [1, 0, 1, 0])
  assert.deepEqual(exactFloatFormats(['double precision', 'text'], '1'), [])
  assert.deepEqual(exactFloatFormats(['double precision'], '3'), [])
  assert.deepEqual(exactFloatFormats(['text', 'bigint'], '-15'), [])
  assert.deepEqual(exactFloatFormats(['real'], undefined), [])
})

test('binary floats come out as text that reads back exactly, as PostgreSQL names the special values', () => {
  const row = dataRow([f8(1 + 1e-16 * 3), Buffer.from('node-1'), f4(0.1), f8(-0), f8(NaN), f8(-Infinity), null, f8Array([[2, 1], [2, 0]], [1.5, null, 1e-7, 2 / 3]), f8Array([], [])])
  const out = feedTexts(row, [1, 0, 1, 1, 1, 1, 1, 1, 1])
  assert.deepEqual(out, [String(1 + 3e-16), 'node-1', String(Math.fround(0.1)), '-0', 'NaN', '-Infinity', null, `[1:2][0:1]={{1.5,NULL},{1e-7,${2 / 3}}}`, '{}'])
  assert.equal(Number(out[0]), 1 + 3e-16)
  assert.equal(Math.fround(Number(out[2])), Math.fround(0.1))
  assert.deepEqual(feedTexts(dataRow([Buffer.from('1.5'), null]), []), ['1.5', null])
})
