import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultOnlySetting } from './refusals.js'

test('formatting locales other than C are refused (0A000): the edges and the gateway format as C', () => {
  for (const [name, value] of [['lc_numeric', 'de_DE.UTF-8'], ['lc_monetary', 'en_US.UTF-8'], ['LC_TIME', 'fr_FR'], ['lc_numeric', '']]) {
    const e = defaultOnlySetting(name!, value!)
    assert.equal(e?.code, '0A000', `${name} = ${value}`)
  }
  for (const [name, value] of [['lc_numeric', 'C'], ['lc_monetary', 'POSIX'], ['lc_time', 'C.UTF-8'], ['lc_time', 'c.utf8'], ['lc_messages', 'de_DE.UTF-8']]) {
    assert.equal(defaultOnlySetting(name!, value!), undefined, `${name} = ${value}`)
  }
})
