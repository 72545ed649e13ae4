import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { SpillingSink } from './reply-spill.js'

const dir = mkdtempSync(join(tmpdir(), 'fedgres-spill-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A connected pair on loopback: `server` writes, `client` reads (paused until told). */
async function pair(): Promise<{ server: net.Socket; client: net.Socket; close(): void }> {
  const listener = net.createServer()
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r))
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r))
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1')
  client.pause()
  const server = await accepted
  return { server, client, close: () => (server.destroy(), client.destroy(), listener.close()) }
}

test('a reply the peer does not read waits on disk past the limit, then arrives whole and in order', async (t) => {
  const { server, client, close } = await pair()
  t.after(close)
  const limit = 1024 * 1024
  const sink = new SpillingSink(server, { dir, memoryBytes: limit })
  const sent = createHash('sha256')
  let total = 0
  let maxHeld = 0
  for (let i = 0; i < 400; i++) {
    const chunk = Buffer.alloc(64 * 1024, i % 251)
    chunk.writeUInt32BE(i, 0)
    sent.update(chunk)
    total += chunk.length
    sink.write(chunk)
    maxHeld = Math.max(maxHeld, server.writableLength)
  }
  assert.ok(sink.spilled >= 16 * 1024 * 1024, `spilled ${sink.spilled} of ${total} bytes`)
  assert.ok(maxHeld <= limit, `held ${maxHeld} bytes in memory against a limit of ${limit}`)
  assert.deepEqual(readdirSync(dir), [], 'the spill file is unlinked once open')
  const drained = new Promise<void>((r) => sink.once('drain', r))
  const got = createHash('sha256')
  let received = 0
  const all = new Promise<void>((r) =>
    client.on('data', (b: Buffer) => {
      got.update(b)
      received += b.length
      if (received === total) r()
    }),
  )
  client.resume()
  await all
  await drained
  assert.equal(got.digest('hex'), sent.digest('hex'))
  assert.equal(sink.spilled, 0)
})

test('a spill file that cannot be made closes the connection and says why', async (t) => {
  const { server, close } = await pair()
  t.after(close)
  const notADir = join(dir, 'file')
  writeFileSync(notADir, '')
  const errors: Error[] = []
  const sink = new SpillingSink(server, { dir: notADir, memoryBytes: 64 * 1024, onError: (e) => errors.push(e) })
  const closed = new Promise<void>((r) => sink.once('close', r))
  server.on('error', () => {})
  // The kernel's socket buffers take the first few MB; the rest must spill.
  for (let i = 0; i < 1000 && !server.destroyed; i++) sink.write(Buffer.alloc(64 * 1024))
  await closed
  assert.equal(errors.length, 1)
  assert.match(errors[0]!.message, /EEXIST|ENOTDIR/)
})
