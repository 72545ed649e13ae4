import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { EdgeStore } from '../store/edge-store.js'
import { SettingsChecker } from './session-settings.js'

/** A store that answers the settings statement after `ms`, counting the statements it ran. */
function slowStore(ms: number, fail = false): EdgeStore & { ran: number } {
  const store = {
    ran: 0,
    async query() {
      store.ran++
      await new Promise((r) => setTimeout(r, ms))
      if (fail) throw new Error('invalid value for parameter "TimeZone": "Mars/Olympus_Mons"')
      return [{ s0: 'Asia/Tokyo', s1: 'SQL, DMY' }]
    },
  }
  return store as unknown as EdgeStore & { ran: number }
}

test('a settings list is checked once, however many connections open with it at the same time', async () => {
  const store = slowStore(50)
  const checker = new SettingsChecker(store)
  const settings = [['TimeZone', 'asia/tokyo'], ['DateStyle', 'sql, dmy']] as const
  const all = await Promise.all(Array.from({ length: 20 }, () => checker.check(settings)))
  assert.equal(store.ran, 1)
  for (const s of all) assert.deepEqual(s, [['TimeZone', 'Asia/Tokyo'], ['DateStyle', 'SQL, DMY']])
  await checker.check(settings)
  assert.equal(store.ran, 1, 'and remembered')
})

test('a refused list is refused to every connection, and checked again for the next', async () => {
  const store = slowStore(10, true)
  const checker = new SettingsChecker(store)
  const settings = [['TimeZone', 'Mars/Olympus_Mons']] as const
  const all = await Promise.allSettled([checker.check(settings), checker.check(settings)])
  for (const r of all) assert.ok(r.status === 'rejected' && (r.reason as { code?: string }).code === '22023')
  await assert.rejects(checker.check(settings), (e: { code?: string }) => e.code === '22023')
  assert.equal(store.ran, 2)
})
