import { afterEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { rootLogger } from '../log.js'
import type { HttpResult } from './consul-client.js'
import { IndexConfirmation, type WatchedIndex } from './index-confirmation.js'
import { sleep, waitFor } from '../../test/helpers/wait.js'

/** A watch parked at `index` since `inFlightSince`, recording its resets. */
class FakeWatch implements WatchedIndex {
  index = 7
  inFlightSince: number | undefined = Date.now()
  readonly resets: string[] = []
  reset(reason: string): void {
    this.resets.push(reason)
    this.index = 0
    this.inFlightSince = undefined
  }
}

/** A Consul whose probe answers come from `answer` (an index, or a throw). */
function fakeClient(answer: () => number) {
  const calls: { path: string; query: unknown }[] = []
  return {
    calls,
    request: async (_m: string, path: string, o?: { query?: unknown }): Promise<HttpResult> => {
      calls.push({ path, query: o?.query })
      await sleep(1)
      return { status: 200, index: answer(), body: '["p/"]', filtered: false, answeredAt: Date.now() }
    },
  }
}

const running: IndexConfirmation[] = []
afterEach(async () => {
  for (const c of running.splice(0)) await c.close()
})

function confirm(watch: FakeWatch, answer: () => number, since = () => 0) {
  const client = fakeClient(answer)
  const c = new IndexConfirmation({ client, watch, path: '/v1/kv/p', query: { keys: '', separator: '/' }, everyMs: 20, log: rootLogger('test', 'error') })
  running.push(c)
  c.start(since)
  return { c, client }
}

test('an unchanged index confirms the watch as of the probe\'s send time', async () => {
  const w = new FakeWatch()
  const t0 = Date.now()
  const { c, client } = confirm(w, () => 7)
  await waitFor('two confirmations', () => client.calls.length >= 2 && c.confirmedAt > t0, 2000, 5)
  assert.ok(c.confirmedAt <= Date.now())
  assert.deepEqual(client.calls[0], { path: '/v1/kv/p', query: { keys: '', separator: '/' } })
  assert.deepEqual(w.resets, [])
})

test('no probe while a newer answer of the watch vouches, nor between polls, nor before the first answer', async () => {
  const w = new FakeWatch()
  const { client } = confirm(w, () => 7, () => Date.now())
  await sleep(100)
  assert.equal(client.calls.length, 0, 'the watch answered just now')
  const between = new FakeWatch()
  between.inFlightSince = undefined
  const b = confirm(between, () => 7)
  const first = new FakeWatch()
  first.index = 0
  const f = confirm(first, () => 7)
  await sleep(100)
  assert.equal(b.client.calls.length + f.client.calls.length, 0)
})

test('a lower index (Consul went back) resets the watch at once; nothing is confirmed', async () => {
  const w = new FakeWatch()
  const { c } = confirm(w, () => 3)
  await waitFor('a reset', () => w.resets.length === 1, 2000, 5)
  assert.match(w.resets[0]!, /went back from 7 to 3/)
  assert.equal(c.confirmedAt, 0)
})

test('a higher index resets the watch only when the same parked poll is still unanswered at the next probe', async () => {
  const w = new FakeWatch()
  const parked = w.inFlightSince
  let answered = false
  const { client } = confirm(w, () => {
    // The first probe sees the change; then the poll is answered (a new poll, parked later).
    if (!answered && client.calls.length === 2) {
      answered = true
      w.index = 9
      w.inFlightSince = parked! + 1
    }
    return 9 + (answered ? 1 : 0)
  })
  await waitFor('a reset', () => w.resets.length === 1, 2000, 5)
  assert.match(w.resets[0]!, /moved from 9 to 10 and the parked poll was not answered/)
  assert.ok(client.calls.length >= 4, 'two probes under the first poll did not reset it, for it was answered')
})

test('a failed probe confirms nothing, and the next one does', async () => {
  const w = new FakeWatch()
  let fail = true
  const { c } = confirm(w, () => {
    if (fail) {
      fail = false
      throw new Error('ECONNRESET')
    }
    return 7
  })
  await waitFor('confirmed after a failure', () => c.confirmedAt > 0, 2000, 5)
  assert.deepEqual(w.resets, [])
})

test('a probe that returns after the watch moved on is ignored', async () => {
  const w = new FakeWatch()
  let first = true
  const { c } = confirm(w, () => {
    if (!first) return w.index
    first = false
    w.index = 8 // answered (index 8) while this probe was out: its 3 speaks of index 7
    return 3
  })
  await waitFor('a later probe confirms', () => c.confirmedAt > 0, 2000, 5)
  assert.deepEqual(w.resets, [])
})
