/**
 * Bytes no driver sends, on raw sockets: garbage instead of a startup packet, truncated
 * messages, an unknown message type after login, a length field of 1 GiB. The server must
 * answer with a FATAL ErrorResponse or close cleanly (a FIN, within seconds, without waiting
 * for a gigabyte), and a session connected beforehand must not notice.
 *
 * Where PostgreSQL sends an ErrorResponse, the same SQLSTATE is required; where it closes
 * silently (it logs those as COMMERROR), a FATAL 08P01 is accepted as well.
 */
import assert from 'node:assert/strict'
import pg from 'pg'
import type { ServerUnderTest } from './index.js'
import { frontendMessage, parseError, RawSession, startupMessage, type CloseKind, type ErrorFields } from './raw-session.js'

export interface BadInputOutcome {
  readonly variant: string
  readonly errors: ErrorFields[]
  readonly closed: CloseKind
  readonly ms: number
}

export interface BadInputReport {
  readonly outcomes: BadInputOutcome[]
}

interface Variant {
  readonly name: string
  /** Log in first (the bad bytes follow a ReadyForQuery) or send them as the first bytes. */
  readonly afterLogin: boolean
  readonly bytes: Buffer
  /** Half-close after writing, so the server sees EOF mid-message. */
  readonly thenEnd?: boolean
  /** The SQLSTATE PostgreSQL answers with; undefined where it closes without a word. */
  readonly pgCode?: string
  readonly pgMessage?: RegExp
}

/** How long a server may take to give up on the bad input. */
const WAIT_MS = 5000

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const GIB = 0x40000000

async function runVariant(server: ServerUnderTest, v: Variant): Promise<BadInputOutcome> {
  const session = v.afterLogin ? await RawSession.login(server) : await RawSession.open(server)
  const started = Date.now()
  try {
    session.write(v.bytes)
    if (v.thenEnd) session.end()
    const { messages, closed } = await session.drain(WAIT_MS)
    const outcome = { variant: v.name, errors: messages.filter((m) => m.type === 'E').map((m) => parseError(m.body)), closed, ms: Date.now() - started }
    const what = `${v.name}: got ${JSON.stringify(messages.map((m) => (m.type === 'E' ? parseError(m.body).fields : m.type)))}, connection ${closed}`
    assert.deepEqual(messages.map((m) => m.type).filter((t) => t !== 'N'), outcome.errors.map(() => 'E'), `only ErrorResponses may answer ${what}`)
    assert.ok(outcome.errors.length <= 1, `at most one ErrorResponse: ${what}`)
    assert.equal(closed, 'end', `the server must close the connection cleanly (FIN) within ${WAIT_MS} ms: ${what}`)
    const err = outcome.errors[0]
    if (v.pgCode) {
      assert.ok(err, `PostgreSQL answers ${v.pgCode} here: ${what}`)
      assert.equal(err.code, v.pgCode, what)
      if (v.pgMessage) assert.match(err.message, v.pgMessage, what)
    }
    if (err) {
      assert.equal(err.severity, 'FATAL', what)
      assert.equal(err.code, v.pgCode ?? '08P01', `SQLSTATE: ${what}`)
    }
    return outcome
  } finally {
    session.destroy()
  }
}

/**
 * Runs the variants while a `pg` session connected beforehand sits idle, then proves that the
 * session still answers and that new connections are still accepted.
 */
async function withBystander(server: ServerUnderTest, variants: readonly Variant[]): Promise<BadInputReport> {
  const config = {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
    ssl: server.tls ? { rejectUnauthorized: false } : false,
  }
  const bystander = new pg.Client(config)
  await bystander.connect()
  try {
    await bystander.query('begin')
    await bystander.query('select count(*) from alerts')
    const outcomes: BadInputOutcome[] = []
    for (const v of variants) {
      outcomes.push(await runVariant(server, v))
      const still = await bystander.query<{ n: number }>('select 1 + 1 as n')
      assert.deepEqual(still.rows, [{ n: 2 }], `the other session after ${v.name}`)
    }
    await bystander.query('commit')
    const fresh = new pg.Client(config)
    await fresh.connect()
    const r = await fresh.query<{ n: string }>('select count(*) as n from alerts').finally(() => fresh.end())
    assert.deepEqual(r.rows, [{ n: '0' }], 'a new session after the bad input')
    return { outcomes }
  } finally {
    await bystander.end()
  }
}

/** Garbage where the startup packet belongs. */
export function checkGarbageStartup(server: ServerUnderTest): Promise<BadInputReport> {
  return withBystander(server, [
    // Read as a length, "GET " is 1.2 GB: PostgreSQL logs "invalid length of startup packet".
    { name: 'HTTP request as startup packet', afterLogin: false, bytes: Buffer.from('GET / HTTP/1.1\r\nHost: fedgres\r\n\r\n') },
    {
      name: 'unknown protocol version 4660.22136',
      afterLogin: false,
      bytes: Buffer.concat([int32(8), int32(0x12345678)]),
      pgCode: '0A000',
      pgMessage: /^unsupported frontend protocol 4660\.22136: server supports 3\.0 to 3\.\d$/,
    },
    { name: 'random bytes as startup packet', afterLogin: false, bytes: Buffer.from('16030100050102030405', 'hex') },
  ])
}

/** A message cut short by EOF: the server must notice the EOF and close, not wait forever. */
export function checkTruncatedMessage(server: ServerUnderTest): Promise<BadInputReport> {
  const startup = startupMessage({ user: server.user, database: server.database })
  return withBystander(server, [
    { name: 'startup packet cut short', afterLogin: false, bytes: startup.subarray(0, 11), thenEnd: true },
    { name: 'Query cut short', afterLogin: true, bytes: frontendMessage('Q', Buffer.from('select 1 as truncated\0')).subarray(0, 12), thenEnd: true },
    {
      name: 'Parse cut short',
      afterLogin: true,
      bytes: frontendMessage('P', Buffer.from('\0select $1::int4\0\0\0')).subarray(0, 9),
      thenEnd: true,
    },
  ])
}

/** A message type byte the protocol does not define, after a valid login. */
export function checkUnknownMessageType(server: ServerUnderTest): Promise<BadInputReport> {
  return withBystander(server, [
    { name: "message type 'z'", afterLogin: true, bytes: frontendMessage('z'), pgCode: '08P01', pgMessage: /^invalid frontend message type 122$/ },
    { name: 'message type 0x01', afterLogin: true, bytes: frontendMessage('\x01', Buffer.from('xx')), pgCode: '08P01', pgMessage: /^invalid frontend message type 1$/ },
  ])
}

/**
 * Length fields the server must refuse before reading the body: 1 GiB (over PostgreSQL's
 * 1 GiB - 1 limit), and below the 4 bytes of the length itself. Our side stays open, so a
 * server that tries to read the gigabyte hangs and fails the check.
 */
export function checkOversizedMessage(server: ServerUnderTest): Promise<BadInputReport> {
  return withBystander(server, [
    { name: 'Query of 1 GiB', afterLogin: true, bytes: Buffer.concat([Buffer.from('Q'), int32(GIB), Buffer.from('select 1;')]) },
    { name: 'Parse of 1 GiB', afterLogin: true, bytes: Buffer.concat([Buffer.from('P'), int32(GIB)]) },
    { name: 'startup packet of 1 GiB', afterLogin: false, bytes: Buffer.concat([int32(GIB), int32(196608)]) },
    { name: 'Query with length 2', afterLogin: true, bytes: Buffer.concat([Buffer.from('Q'), int32(2)]) },
  ])
}
