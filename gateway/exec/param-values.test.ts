import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pruneValues } from './param-values.js'

const text = (...vs: string[]) => vs.map((v) => Buffer.from(v))

test('parameters read as PostgreSQL reads them for a comparison with a text or timestamptz column', () => {
  const [bpchar, name, date, ts, tstz, bparr, plain] = pruneValues(
    [1042, 19, 1082, 1114, 1184, 1014, 25],
    text('node-1a   ', 'x'.repeat(60) + 'é'.repeat(3), '2026-10-06 23:00-14', '2026-10-06 20:00-05', '2026-10-07 01:00+14', '{"node-1a ",NULL}', 'node-1a '),
    [0, 0, 0, 0, 0, 0, 0],
  )
  assert.deepEqual(bpchar, { text: 'node-1a' }, 'character(n) loses its trailing spaces')
  assert.deepEqual(name, { text: 'x'.repeat(60) + 'é' }, 'a name is cut to 63 bytes, never inside a character')
  assert.deepEqual(date, { text: '2026-10-06', withoutZone: true }, 'a date drops its time and zone')
  assert.deepEqual(ts, { text: '2026-10-06 20:00-05', withoutZone: true })
  assert.deepEqual(tstz, { text: '2026-10-07 01:00+14', instant: true })
  assert.deepEqual(bparr, { array: ['node-1a', null] })
  assert.deepEqual(plain, { text: 'node-1a ' }, 'text keeps its spaces')
  assert.equal(pruneValues([1082], text('10/06/2026'), [0])[0], undefined, 'a date in another style does not prune')
  for (const bc of ['2026-10-08 BC', '2026-10-08 bc', ' 2026-10-08 12:00 BC', '2026-10-08 12:00 Europe/Paris', '2026-10-08 AD']) {
    assert.equal(pruneValues([1082], text(bc), [0])[0], undefined, `a date with a word after it does not prune: ${bc}`)
  }
  assert.deepEqual(pruneValues([1082], text('2026-10-08 12:34:56.5+02'), [0])[0], { text: '2026-10-08', withoutZone: true })
})
