import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BackendEncoder } from '../../common/pgwire/index.js'
import type { SortKey } from '../plan/types.js'
import { ArrivalMerge, BufferedSource, compareKeys, nextRow, SortedMerge, type RowSource } from './merge.js'

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

/** A DataRow of a text label and an int4 sort key (the key travels last, in binary). */
const row = (label: string, key: number) => {
  const k = Buffer.alloc(4)
  k.writeInt32BE(key)
  return new BackendEncoder().dataRow([Buffer.from(label), k]).take()
}
const label = (frame: Buffer | null | undefined) => (frame ? frame.toString('utf8', 11, 11 + frame.readInt32BE(7)) : frame)

/** A shard whose rows arrive when the test pushes them. */
class LateSource implements RowSource {
  readonly #rows: Buffer[] = []
  #ended = false
  #wake: (() => void) | undefined
  push(...rows: Buffer[]): void {
    this.#rows.push(...rows)
    this.#wake?.()
  }
  end(): void {
    this.#ended = true
    this.#wake?.()
  }
  get ready(): boolean {
    return this.#rows.length > 0 || this.#ended
  }
  take(): Buffer | null | undefined {
    return this.#rows.shift() ?? (this.#ended ? null : undefined)
  }
  async next(): Promise<Buffer | null> {
    return nextRow(this)
  }
  wait(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((r) => (this.#wake = r))
  }
}

describe('merging shard streams', () => {
  const key: SortKey = { column: 0, type: 'int', desc: false, nullsFirst: false }

  test('a sorted merge takes rows at hand without waiting, and waits for a shard whose next row decides the order', async () => {
    const late = new LateSource()
    const merge = new SortedMerge([new BufferedSource([row('a1', 1), row('a4', 4)]), late], [key], 1)
    assert.equal(merge.take(), undefined, 'no row before every shard has sent its first')
    late.push(row('b2', 2))
    await merge.wait()
    assert.equal(label(merge.take()), 'a1')
    assert.equal(label(merge.take()), 'b2')
    assert.equal(merge.take(), undefined, 'a4 may not go before the late shard says what follows b2')
    const rest = nextRow(merge)
    late.push(row('b3', 3))
    late.end()
    assert.equal(label(await rest), 'b3')
    assert.equal(label(await nextRow(merge)), 'a4')
    assert.equal(await nextRow(merge), null)
    assert.equal(merge.take(), null)
  })

  test('DISTINCT ON: of a group spread over shards, only the first row in the merged order is passed on, waiting as needed', async () => {
    // Group key, then the key that orders a group's rows: each shard sent the first row of each of its groups.
    const two = (l: string, g: number, t: number) => {
      const [a, b] = [Buffer.alloc(4), Buffer.alloc(4)]
      a.writeInt32BE(g)
      b.writeInt32BE(t)
      return new BackendEncoder().dataRow([Buffer.from(l), a, b]).take()
    }
    const late = new LateSource()
    const keys: SortKey[] = [key, { ...key, column: 1, desc: true, nullsFirst: true }]
    const merge = new SortedMerge([new BufferedSource([two('a1', 1, 5), two('a2', 2, 1), two('a3', 3, 3)]), late], keys, 1, 1)
    late.push(two('b1', 1, 9), two('b2', 2, 0))
    await merge.wait()
    assert.equal(label(merge.take()), 'b1', 'group 1: the later time of the two, DESC')
    assert.equal(label(merge.take()), 'a2', 'group 2: a2 goes first, b2 is dropped')
    assert.equal(merge.take(), undefined, 'group 3 waits for the late shard')
    late.push(two('b3', 3, 4))
    late.end()
    assert.equal(label(await nextRow(merge)), 'b3')
    assert.equal(await nextRow(merge), null)
  })

  test('the sort key columns are cut from the rows passed on', () => {
    const merge = new SortedMerge([new BufferedSource([row('x', 7)])], [key], 1)
    const out = merge.take()!
    assert.equal(out.readInt16BE(5), 1, 'one visible column')
    assert.equal(label(out), 'x')
  })

  test('an arrival merge passes rows on as any shard has them and ends when every shard has', async () => {
    const late = new LateSource()
    const merge = new ArrivalMerge([late, new BufferedSource([row('a', 0)])])
    assert.equal(label(merge.take()), 'a', 'a ready shard is not held up by a silent one')
    assert.equal(merge.take(), undefined)
    const next = nextRow(merge)
    late.push(row('b', 0))
    assert.equal(label(await next), 'b')
    late.end()
    assert.equal(await nextRow(merge), null)
  })

  test("a shard's error reaches whoever takes from the merge", async () => {
    const failing: RowSource = {
      ready: true,
      take: () => {
        throw new Error('edge e1 failed')
      },
      next: async () => null,
      wait: async () => {},
    }
    assert.throws(() => new SortedMerge([failing], [key], 1).take(), /edge e1 failed/)
    await assert.rejects(nextRow(new ArrivalMerge([failing])), /edge e1 failed/)
  })
})
