import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { SortKey } from '../plan/types.js'
import { compareKeys } from './merge.js'

const int8 = (v: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(v)
  return b
}

describe('merge key order', () => {
  test('int8 and timestamptz keys order as signed 64-bit integers, ascending and descending', () => {
    const values = [-(2n ** 63n), -(2n ** 32n) - 1n, -(2n ** 32n), -(2n ** 31n), -1n, 0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 53n + 2n, 2n ** 63n - 1n]
    for (const type of ['int', 'timestamptz'] as const) {
      for (const desc of [false, true]) {
        const key: SortKey = { column: 0, type, desc, nullsFirst: desc }
        for (const x of values) {
          for (const y of values) {
            const want = x < y ? -1 : x > y ? 1 : 0
            assert.equal(compareKeys([int8(x)], [int8(y)], [key]), (desc ? -want : want) || 0, `${x} vs ${y} (${desc ? 'DESC' : 'ASC'})`)
          }
        }
      }
    }
  })

  test('int4 and int2 keys, NULLs first or last, and later keys break ties', () => {
    const i4 = (v: number) => Buffer.from([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255])
    const asc: SortKey = { column: 0, type: 'int', desc: false, nullsFirst: false }
    assert.equal(compareKeys([i4(-5)], [i4(3)], [asc]), -1)
    assert.equal(compareKeys([Buffer.from([0xff, 0xfe])], [Buffer.from([0, 1])], [asc]), -1, 'int2 -2 < 1')
    assert.equal(compareKeys([null], [i4(3)], [asc]), 1, 'NULLS LAST')
    assert.equal(compareKeys([null], [i4(3)], [{ ...asc, nullsFirst: true }]), -1, 'NULLS FIRST')
    const second: SortKey = { column: 1, type: 'text', desc: false, nullsFirst: false }
    assert.equal(compareKeys([i4(1), Buffer.from('b')], [i4(1), Buffer.from('a')], [asc, second]), 1)
  })
})
