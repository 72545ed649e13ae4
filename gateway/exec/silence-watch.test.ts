import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { SilenceWatch, TICK_MS, type Watched } from './silence-watch.js'

/** A shard last heard at `heard`, that gives up when its silence reaches the timeout. */
class Shard implements Watched {
  checks = 0
  gaveUpAfter: number | undefined
  constructor(
    readonly timeoutMs: number,
    public heard = performance.now(),
  ) {}
  checkSilence(now: number): void {
    this.checks++
    if (now - this.heard >= this.timeoutMs) this.gaveUpAfter ??= now - this.heard
  }
}

test('each shard is given up once it has been silent for the timeout (within a tick), counted from when it was last heard', async () => {
  const watch = new SilenceWatch(100)
  const quiet = new Shard(100)
  const talking = new Shard(100)
  watch.add(quiet)
  watch.add(talking)
  const t0 = performance.now()
  // `talking` is heard from at 60 ms: its silence starts again there.
  await sleep(60)
  talking.heard = performance.now()
  while (talking.gaveUpAfter === undefined && performance.now() - t0 < 1000) await sleep(5)
  const late = 100 + TICK_MS + 30
  assert.ok(quiet.gaveUpAfter! >= 100 && quiet.gaveUpAfter! < late, `quiet gave up after ${quiet.gaveUpAfter} ms of silence`)
  assert.ok(talking.gaveUpAfter! >= 100 && talking.gaveUpAfter! < late, `talking gave up after ${talking.gaveUpAfter} ms of silence`)
  assert.ok(performance.now() - t0 >= 160, 'talking was not given up before 100 ms after it was last heard')
  watch.remove(quiet)
  watch.remove(talking)
})

test('a shard that has ended is no longer checked', async () => {
  const watch = new SilenceWatch(20)
  const shard = new Shard(20)
  watch.add(shard)
  watch.remove(shard)
  await sleep(80)
  assert.equal(shard.checks, 0)
})
