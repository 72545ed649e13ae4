/**
 * The shadow catalog: a PostgreSQL (PGlite) holding the schema's DDL, answering every statement
 * that touches only pg_catalog or information_schema (or no relation) exactly as PostgreSQL does.
 *
 * It runs in a worker thread: PGlite is one session and runs queries synchronously, so a slow
 * catalog query here never stalls the gateway's sockets, and a runaway one is stopped by ending
 * the worker. Client sessions share it by turns: when the client changes, its role and settings
 * are replayed first. Client statements run as that client's role, never as a superuser.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { BackendDecoder, FrontendEncoder, startupMessage } from '../../common/pgwire/index.js'
import { READER_ROLE, SESSION_ROLE, SHADOW_DATABASE, shadowStartParams } from './shadow-image.js'
import type { FromShadow, ShadowInit, ToShadow } from './shadow-protocol.js'
import { quoteIdent } from '../../common/sql-quote.js'

/** The channel to the main thread (its own port, so it can also be read synchronously). */
const port = (workerData as { port: MessagePort }).port
let db: PGlite | undefined
let currentOwner = ''
let maxResultBytes = Infinity
/** The request being run, named in an overflow message. */
let currentId = 0
const encoder = new FrontendEncoder()


/**
 * Runs protocol messages and returns the raw reply. The streaming call hands the reply over as
 * it is written; the plain one would also parse every message (for notices) that we pass on as
 * bytes anyway. The catalog lives in memory and is read-only: nothing to sync to a file system.
 */
async function exec(bytes: Uint8Array): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let length = 0
  let overflow = false
  await db!.execProtocolRawStream(bytes, {
    syncToFs: false,
    onRawData: (d) => {
      if (overflow) return
      length += d.length
      if (length <= maxResultBytes) return void chunks.push(d.slice())
      // PGlite cannot be stopped from here: the reply is dropped, and the main thread, told at
      // once, ends this worker (as for a timeout) instead of letting the rows fill its memory.
      overflow = true
      chunks.length = 0
      port.postMessage({ id: currentId, overflow: true } satisfies FromShadow)
    },
  })
  if (overflow) return new Uint8Array(0)
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(length)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

async function simple(sql: string): Promise<Buffer> {
  const reply = await exec(encoder.query(sql).take())
  return Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength)
}

function firstError(reply: Buffer): string | undefined {
  const dec = new BackendDecoder()
  dec.push(reply)
  for (let m = dec.next(); m; m = dec.next()) if (m.type === 'ErrorResponse') return m.fields.message
  return undefined
}

async function init(req: ShadowInit): Promise<[string, string][]> {
  maxResultBytes = req.maxResultBytes
  db = await PGlite.create({ loadDataDir: new Blob([req.image]), database: SHADOW_DATABASE, startParams: [...shadowStartParams(), ...(req.settings ?? []).flatMap(([n, v]) => ['-c', `${n}=${v}`])] })
  const roles = req.users.map((u) => `CREATE ROLE ${quoteIdent(u)} LOGIN IN ROLE ${READER_ROLE}; GRANT ${quoteIdent(u)} TO ${SESSION_ROLE};`).join('\n')
  // Separate queries: one query string is one transaction, read-only from its start.
  await simple('SET default_transaction_read_only = off')
  const err = firstError(await simple(roles))
  await simple('RESET default_transaction_read_only')
  if (err) throw new Error(`shadow catalog setup failed: ${err}`)
  // From here on the session runs as a role that is no superuser; it cannot come back.
  const auth = firstError(await simple(`SET SESSION AUTHORIZATION ${SESSION_ROLE}`))
  if (auth) throw new Error(`shadow catalog setup failed: ${auth}`)
  // The startup packet's reply lists the parameters PostgreSQL reports (GUC_REPORT) and their defaults.
  const reply = await db.execProtocolRaw(startupMessage(new Map([['user', 'postgres'], ['database', SHADOW_DATABASE]])))
  const dec = new BackendDecoder()
  dec.push(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength))
  const params: [string, string][] = []
  for (let m = dec.next(); m; m = dec.next()) if (m.type === 'ParameterStatus') params.push([m.name, m.value])
  return params
}

async function run(ownerKey: string, setup: string, bytes: Uint8Array): Promise<Uint8Array> {
  if (ownerKey === currentOwner) return exec(bytes)
  currentOwner = ''
  // ROLLBACK ends a transaction a previous client's statement may have left open. The reset is a
  // Query of its own: in one Query with the setup, a setup statement that failed (a startup
  // option the engine refuses) rolled back RESET ALL and RESET ROLE with it, and the client ran
  // in the previous client's settings and role.
  await exec(encoder.query('ROLLBACK; RESET ROLE; RESET ALL').take())
  const prepared = await exec(encoder.query(setup).take())
  const failed = errorAt(prepared)
  // The client's statement does not run in a state it did not ask for: it gets the setup's error.
  if (failed >= 0) return prepared.subarray(failed)
  currentOwner = ownerKey
  return exec(bytes)
}

/** The offset of the first ErrorResponse in a reply; -1 if none. */
function errorAt(b: Uint8Array): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let at = 0; at + 5 <= b.length; at += 1 + view.getInt32(at + 1)) if (b[at] === 0x45) return at // 'E'
  return -1
}

async function handle(msg: ToShadow): Promise<void> {
  try {
    if (msg.op === 'init') {
      const parameters = await init(msg)
      port.postMessage({ id: msg.id, ok: true, parameters } satisfies FromShadow)
    } else {
      if (msg.fresh) currentOwner = ''
      currentId = msg.id
      const out = await run(msg.owner.key, msg.owner.setup, msg.bytes)
      // Transferred, not copied: `out` is ours alone unless it is a view into a larger buffer.
      const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice()
      port.postMessage({ id: msg.id, ok: true, bytes: own } satisfies FromShadow, [own.buffer as ArrayBuffer])
    }
  } catch (e) {
    currentOwner = ''
    port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies FromShadow)
  }
}

/**
 * After a request, the worker keeps polling its port this long before it sleeps. Waking a
 * sleeping thread costs more than the work: on this VM a worker round trip is 69 µs when both
 * threads sleep in between, 25 µs when the worker polls, against 8 µs for PGlite's SELECT 1.
 * The poll holds a core only while requests keep coming, never when the gateway is idle.
 */
const POLL_MS = 0.2

// One request at a time, in arrival order: the main thread sends a few ahead, and each waits
// for the one before it to finish.
let chain = Promise.resolve()
let polling = false
port.on('message', (msg: ToShadow) => {
  chain = chain.then(() => handle(msg)).then(poll)
})

async function poll(): Promise<void> {
  if (polling) return
  polling = true
  try {
    for (let until = performance.now() + POLL_MS; performance.now() < until; ) {
      const next = receiveMessageOnPort(port)
      if (!next) continue
      await handle(next.message as ToShadow)
      until = performance.now() + POLL_MS
    }
  } finally {
    polling = false
  }
}
