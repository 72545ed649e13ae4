// Micro-benchmark for the hot paths of the codec (not a test): node dist/common/pgwire/codec.bench.js [rows]
import { BackendEncoder } from './backend-encoder.js'
import { decodeBackendMessage } from './backend-messages.js'
import { DataRow, dataRowWithoutTrailing } from './data-row.js'
import { MessageBuffer } from './message-buffer.js'

const N = Number(process.argv[2] ?? 1_000_000)
const BATCH = 64 * 1024

// 1000 distinct rows, cycled, so the numbers measure the codec and not string building.
const rows = Array.from({ length: 1000 }, (_, i) => [
  String(1_700_000_000 + i),
  `node-${i % 17}.edge.example`,
  `/usr/bin/process-${i} --flag=${i * 7}`,
])

/** Best of three runs (the first doubles as warm-up): the machine is shared, and noise only slows. */
function bench(name: string, fn: () => number): void {
  let best = Infinity
  let ops = 0
  for (let run = 0; run < 3; run++) {
    const t0 = process.hrtime.bigint()
    ops = fn()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  console.log(`${name.padEnd(52)} ${String(Math.round((ops / best) * 1000)).padStart(10)} ops/s  (${best.toFixed(0)} ms)`)
}

/** The stream an edge would send: N DataRows, cut into 64 KB socket-sized chunks. */
function encodeStream(): Buffer[] {
  const enc = new BackendEncoder()
  const chunks: Buffer[] = []
  for (let i = 0; i < N; i++) {
    enc.dataRow(rows[i % 1000]!)
    if (enc.pendingBytes >= BATCH) chunks.push(enc.take())
  }
  chunks.push(enc.take())
  return chunks
}

let sink = 0

bench(`encode ${N} DataRows (3 text columns, 64 KB batches)`, () => {
  const chunks = encodeStream()
  sink += chunks.length
  return N
})

const stream = encodeStream()
const total = stream.reduce((n, c) => n + c.length, 0)
// Re-cut at 65536-byte boundaries so frames straddle chunks, as they do on a socket.
const whole = Buffer.concat(stream)
const chunks: Buffer[] = []
for (let at = 0; at < whole.length; at += 65536) chunks.push(whole.subarray(at, at + 65536))
console.log(`stream: ${(total / 1024 / 1024).toFixed(1)} MiB in ${chunks.length} chunks`)

bench(`frame ${N} DataRows (MessageBuffer only)`, () => {
  const mb = new MessageBuffer()
  let n = 0
  for (const c of chunks) {
    mb.push(c)
    for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) n++
  }
  return n
})

bench(`frame + decode ${N} DataRows (checked, no values)`, () => {
  const mb = new MessageBuffer()
  let n = 0
  for (const c of chunks) {
    mb.push(c)
    for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) {
      if (decodeBackendMessage(f) instanceof DataRow) n++
    }
  }
  return n
})

bench(`frame + decode ${N} DataRows + values() views`, () => {
  const mb = new MessageBuffer()
  let n = 0
  for (const c of chunks) {
    mb.push(c)
    for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) {
      const m = decodeBackendMessage(f)
      if (m instanceof DataRow) n += m.values().length > 0 ? 1 : 0
    }
  }
  return n
})

bench(`pass-through ${N} DataRows (decode + re-batch)`, () => {
  const mb = new MessageBuffer()
  const enc = new BackendEncoder()
  let n = 0
  for (const c of chunks) {
    mb.push(c)
    for (let f = mb.nextFrame(); f !== undefined; f = mb.nextFrame()) {
      const m = decodeBackendMessage(f)
      if (m instanceof DataRow) {
        enc.dataRowFrame(m.frame, 2) // drop one trailing (sort-key) column
        n++
      }
      if (enc.pendingBytes >= BATCH) sink += enc.take().length
    }
  }
  sink += enc.take().length
  return n
})

const oneRow = Buffer.from(new BackendEncoder().dataRow(rows[0]!).take())
bench(`dataRowWithoutTrailing ${N}×`, () => {
  for (let i = 0; i < N; i++) sink += dataRowWithoutTrailing(oneRow, 2).length
  return N
})

if (sink === 0) console.log('unreachable')
