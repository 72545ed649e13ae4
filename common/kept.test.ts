import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kept } from './kept.js'

test('a value is made once per key, falsy values included', () => {
  const map = new Map<string, number | null>()
  let made = 0
  const make = (v: number | null) => () => (made++, v)
  assert.equal(kept(map, 'zero', make(0)), 0)
  assert.equal(kept(map, 'zero', make(1)), 0)
  assert.equal(kept(map, 'none', make(null)), null)
  assert.equal(kept(map, 'none', make(2)), null)
  assert.equal(made, 2)
})
