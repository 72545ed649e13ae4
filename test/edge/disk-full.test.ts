/**
 * An edge whose disk fills up, on real filesystems (tmpfs; the tests need root and mount, and
 * are skipped without them). While the disk is full the agent stays up, keeps serving reads and
 * says it is failing (/readyz, /metrics); received events wait in memory or in the spool. Once
 * space is freed they are written and committed: every event the source sent is stored, exactly
 * once. Before, the spool's failed write was counted as a malformed event, or crashed the agent;
 * and a store whose disk filled broke PGlite (a failed checkpoint left it answering queries with
 * nothing, a failed WAL segment made it spin) or waited for a new event before committing again.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, truncateSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pg from 'pg'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { startEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { sleep, waitFor } from '../helpers/wait.js'

function mountTmpfs(dir: string, mib: number): string | undefined {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { stdio: 'pipe' })
    return undefined
  } catch (e) {
    return `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`
  }
}

/** Writes a file until the filesystem refuses; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(1 << 20, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    closeSync(fd)
  }
  return path
}

/** A source, an edge on `dataDir` serving a gateway login, and a client of that endpoint. */
async function startRig(dataDir: string, edgeId: string, extra: Record<string, unknown> = {}) {
  const src = new KubeArmorEventSource({ hosts: [`${edgeId}-host`], rate: 0, port: 0 })
  await src.start()
  const users = [{ name: 'gw', scram: makeScramSecret('gw-secret') }]
  const edge = await startEdge(edgeConfig(dataDir, [src.address], { edge_id: edgeId, serve: { host: '127.0.0.1', port: 0, users }, ...extra }), rootLogger('test', 'error'))
  const c = new pg.Client({ host: '127.0.0.1', port: edge.servePort, user: 'gw', password: 'gw-secret', database: 'fedgres' })
  await c.connect()
  await waitFor('subscribed', () => src.subscribers('logs') > 0 && src.subscribers('alerts') > 0)
  return {
    src,
    edge,
    stored: async () => Number((await c.query('SELECT (SELECT count(*) FROM logs) + (SELECT count(*) FROM alerts) AS n')).rows[0].n),
    duplicates: async () => Number((await c.query(`SELECT count(*) - count(DISTINCT event_data->>'Seq') AS d FROM logs`)).rows[0].d),
    async stop() {
      await c.end().catch(() => {})
      await edge.stop()
      await src.stop()
    },
  }
}

const mnt = mkdtempSync(join(tmpdir(), 'fedgres-disk-full-'))
const cannot = mountTmpfs(mnt, 160)
if (cannot) rmSync(mnt, { recursive: true, force: true })

test('a full disk: the edge stays up and serving, holds what arrives, and stores every event once space is back', { skip: cannot }, async () => {
  const rig = await startRig(join(mnt, 'edge'), 'full-edge')
  const { src, edge, stored } = rig
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await edge.agent.metrics.registry.getSingleMetric(name)!.get()).values
    return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0)
  }
  let filler: string | undefined
  try {
    src.setRate(500)
    await waitFor('events stored', async () => (await stored()) > 500, 20_000)
    filler = fillDisk(mnt)
    await waitFor('the spool failing', () => edge.agent.spoolFailing, 10_000)
    assert.equal(await metric('fedgres_edge_spool_write_failing'), 1)
    const during = await stored()
    await sleep(3000) // events keep arriving, held in memory
    assert.ok(edge.agent.spoolFailing, 'still failing while the disk is full')
    assert.equal(await stored(), during, 'reads are served while the disk is full')
    assert.ok(src.stats.sent > during + 1000, 'the source went on sending')
    rmSync(filler)
    filler = undefined
    await waitFor('the spool written again', () => !edge.agent.spoolFailing, 10_000)
    src.setRate(0)
    await sleep(200)
    const sent = src.stats.sent
    await waitFor('every event sent is stored', async () => (await stored()) === sent, 30_000, 100)
    assert.equal(src.stats.dropped, 0, 'the source dropped nothing for the edge')
    assert.equal(await metric('fedgres_edge_spool_write_failing'), 0)
    assert.equal(await metric('fedgres_edge_events_dropped_total', { reason: 'malformed' }), 0, 'a failed write is not a malformed event')
    assert.equal(await metric('fedgres_edge_events_dropped_total', { reason: 'spool_write_failed' }), 0)
    assert.equal(await rig.duplicates(), 0, 'no event stored twice')
  } finally {
    if (filler) rmSync(filler, { force: true })
    await rig.stop()
    execFileSync('umount', ['-l', mnt])
    rmSync(mnt, { recursive: true, force: true })
  }
})

// The data dir on its own 160 MiB filesystem, its spool (a symlink) on the machine's: only the store fills up.
const storeMnt = mkdtempSync(join(tmpdir(), 'fedgres-store-full-'))
const storeCannot = mountTmpfs(join(storeMnt, 'edge'), 160)
if (storeCannot) rmSync(storeMnt, { recursive: true, force: true })
else {
  mkdirSync(join(storeMnt, 'spool'))
  symlinkSync(join(storeMnt, 'spool'), join(storeMnt, 'edge', 'spool'))
}

test("the store's disk below store.min_free: commits wait, reads stay right, and resume once space is back with no new event", { skip: storeCannot }, async () => {
  const disk = join(storeMnt, 'edge')
  const rig = await startRig(disk, 'store-full', { store: { min_free: '48MiB' } })
  const { src, edge, stored } = rig
  let filler: string | undefined
  try {
    src.setRate(500)
    await waitFor('events stored', async () => (await stored()) > 1000, 20_000)
    src.setRate(0)
    await waitFor('all stored', async () => (await stored()) === src.stats.sent, 20_000)
    // 16 MiB left: below min_free, but room for what PGlite itself needs.
    filler = fillDisk(disk)
    truncateSync(filler, statSync(filler).size - (16 << 20))
    const before = await stored()
    src.setRate(500)
    await waitFor('commits paused', () => edge.agent.storeFailing, 10_000)
    await sleep(2000)
    assert.equal(await stored(), before, 'reads answer what is committed, while commits wait')
    assert.ok(src.stats.sent > before + 500, 'events went on arriving')
    src.setRate(0)
    await sleep(300)
    const sent = src.stats.sent
    rmSync(filler)
    filler = undefined
    // Within seconds: a store below the floor looks again every second (it backed off to 30 s).
    await waitFor('every event stored, with no new one to wake the store', async () => (await stored()) === sent, 10_000, 100)
    await waitFor('ready again', () => !edge.agent.storeFailing, 5000)
    assert.equal(await rig.duplicates(), 0, 'no event stored twice')
  } finally {
    if (filler) rmSync(filler, { force: true })
    await rig.stop()
    execFileSync('umount', ['-l', disk])
    rmSync(storeMnt, { recursive: true, force: true })
  }
})
