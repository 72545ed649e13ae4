/**
 * The Node.js clients: node-postgres (`pg`) with text and binary results, Kysely over a pg pool
 * with the schema's row types, and the binary result encodings checked byte for byte on a raw
 * session (what Npgsql, i.e. Power BI, asks for: every result column in binary).
 */
import assert from 'node:assert/strict'
import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import { alertColumns, type PgType } from '../../schema/columns.js'
import type { AlertRow, FedgresDatabase } from '../../schema/row-types.js'
import type { ServerUnderTest } from './index.js'
import { RawSession } from './raw-session.js'

const connectionConfig = (s: ServerUnderTest): pg.ClientConfig => ({
  host: s.host,
  port: s.port,
  user: s.user,
  password: s.password,
  database: s.database,
  application_name: 'fedgres-node-probe',
  connectionTimeoutMillis: 10_000,
  // The harness checks the protocol, not the certificate chain: servers under test self-sign.
  ssl: s.tls ? { rejectUnauthorized: false } : false,
})

/** 2000-01-01T00:00:00Z in µs since the Unix epoch: the origin of binary timestamps. */
const PG_EPOCH_US = BigInt(Date.UTC(2000, 0, 1)) * 1000n

/** µs since 2000-01-01 of an ISO instant with up to 6 fractional digits, e.g. `...:57.640305Z`. */
export function pgMicros(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(iso)
  assert.ok(m, `not an ISO instant: ${iso}`)
  return BigInt(Date.parse(`${m[1]}Z`)) * 1000n + BigInt((m[2] ?? '').padEnd(6, '0')) - PG_EPOCH_US
}

/** Binary (format 1) decoders of the result types, straight from the PostgreSQL *send functions. */
export const decodeBinary = {
  int4: (b: Buffer) => (assert.equal(b.length, 4, 'int4 is 4 bytes'), b.readInt32BE(0)),
  int8: (b: Buffer) => (assert.equal(b.length, 8, 'int8 is 8 bytes'), b.readBigInt64BE(0)),
  text: (b: Buffer) => b.toString('utf8'),
  bool: (b: Buffer) => (assert.equal(b.length, 1, 'bool is 1 byte'), b[0] === 1),
  timestamptz: (b: Buffer) => (assert.equal(b.length, 8, 'timestamptz is 8 bytes'), b.readBigInt64BE(0)),
  jsonb: (b: Buffer) => (assert.equal(b[0], 1, 'jsonb binary version byte'), JSON.parse(b.toString('utf8', 1)) as unknown),
  textArray: (b: Buffer): (string | null)[] => {
    const [ndim, hasNull, elemType] = [b.readInt32BE(0), b.readInt32BE(4), b.readInt32BE(8)]
    assert.equal(ndim, 1, 'text[] dimensions')
    assert.equal(elemType, 25, 'text[] element type OID')
    const [len, lbound] = [b.readInt32BE(12), b.readInt32BE(16)]
    assert.equal(lbound, 1, 'text[] lower bound')
    const out: (string | null)[] = []
    let i = 20
    for (let n = 0; n < len; n++) {
      const l = b.readInt32BE(i)
      i += 4
      out.push(l < 0 ? null : b.toString('utf8', i, i + l))
      if (l > 0) i += l
    }
    assert.equal(i, b.length, 'text[] has no trailing bytes')
    assert.equal(hasNull, out.includes(null) ? 1 : 0, 'text[] has-null flag')
    return out
  },
}

const PROBE_SQL = 'select $1::int4 as i4, $2::int8 as i8, $3::text as t, $4::bool as b, $5::timestamptz as ts, $6::jsonb as j, $7::text[] as arr'
const PROBE_OIDS = [23, 20, 25, 16, 1184, 3802, 1009]

interface Probe {
  int4: number
  int8: bigint
  text: string
  bool: boolean
  ts: string
  json: unknown
  arr: (string | null)[]
}

const probeParams = (p: Probe) => [String(p.int4), String(p.int8), p.text, String(p.bool), p.ts, JSON.stringify(p.json), p.arr]

function assertBinaryRow(row: readonly (Buffer | null)[], p: Probe, who: string) {
  const buf = (i: number) => {
    const b = row[i]
    assert.ok(Buffer.isBuffer(b), `${who}: column ${i + 1} is not a binary value`)
    return b
  }
  assert.equal(row.length, 7, `${who}: column count`)
  assert.equal(decodeBinary.int4(buf(0)), p.int4, `${who}: int4`)
  assert.equal(decodeBinary.int8(buf(1)), p.int8, `${who}: int8`)
  assert.equal(decodeBinary.text(buf(2)), p.text, `${who}: text`)
  assert.equal(decodeBinary.bool(buf(3)), p.bool, `${who}: bool`)
  assert.equal(decodeBinary.timestamptz(buf(4)), pgMicros(p.ts), `${who}: timestamptz µs since 2000-01-01`)
  assert.deepEqual(decodeBinary.jsonb(buf(5)), p.json, `${who}: jsonb`)
  assert.deepEqual(decodeBinary.textArray(buf(6)), p.arr, `${who}: text[]`)
}

/**
 * node-postgres passes binary DataRow values through a UTF-8 string before handing them over as
 * Buffers (pg 8.x, Result.parseRow), which mangles bytes >= 0x80. These values encode to ASCII
 * bytes only, so what pg hands back is exactly what the server sent.
 */
const ASCII_SAFE: Probe = {
  int4: 0x12345678,
  int8: 0x0123456701234567n,
  text: "O'Reilly ✓",
  bool: true,
  ts: '2022-04-07T17:01:57.640305Z', // 0x00027F1234567071 µs
  json: { k: 'v', n: [1, 2] },
  // No NULL element: its length field is 0xFFFFFFFF.
  arr: ['a', 'b,c', '', "O'Reilly"],
}

/** Values whose encodings use every byte: negative numbers, a pre-2000 instant, non-ASCII text. */
const HOSTILE: Probe = {
  int4: -2,
  int8: -9223372036854775808n,
  text: 'zoë ✓ 日本',
  bool: false,
  ts: '1969-07-20T20:17:40.123456Z',
  json: { 'ü': [1.5, null, true], nested: { s: '"q"' } },
  arr: ['é', null, '', '{x}', 'NULL'],
}

export interface NodePgReport {
  readonly serverVersion: string
  readonly textRow: unknown[]
}

export async function checkNodePg(server: ServerUnderTest): Promise<NodePgReport> {
  const client = new pg.Client(connectionConfig(server))
  // Binary columns reach our own decoders untouched; text columns get pg's usual parsers.
  const binaryClient = new pg.Client({
    ...connectionConfig(server),
    types: { getTypeParser: ((oid: number, format?: string) => (format === 'binary' ? (v: Buffer) => v : pg.types.getTypeParser(oid))) as typeof pg.types.getTypeParser },
  })
  await client.connect()
  await binaryClient.connect()
  try {
    const version = await client.query<{ server_version: string }>('show server_version')
    const serverVersion = version.rows[0]!.server_version

    // Extended protocol, text results, pg's own parsers.
    const text = await client.query({ text: PROBE_SQL, values: probeParams(ASCII_SAFE), rowMode: 'array' })
    assert.deepEqual(text.fields.map((f) => [f.dataTypeID, f.format]), PROBE_OIDS.map((o) => [o, 'text']), 'pg text RowDescription')
    assert.deepEqual(
      text.rows[0],
      [ASCII_SAFE.int4, String(ASCII_SAFE.int8), ASCII_SAFE.text, true, new Date('2022-04-07T17:01:57.640Z'), ASCII_SAFE.json, ASCII_SAFE.arr],
      'pg text results',
    )

    // Extended protocol, every result column in binary.
    // `binary` is missing from @types/pg's QueryConfig. Object rows, because pg's array rowMode
    // hands binary values over as strings rather than Buffers.
    const binaryQuery: pg.QueryConfig & { binary: boolean } = { text: PROBE_SQL, values: probeParams(ASCII_SAFE), binary: true }
    const bin = await binaryClient.query<Record<string, Buffer | null>>(binaryQuery)
    assert.deepEqual(bin.fields.map((f) => [f.dataTypeID, f.format]), PROBE_OIDS.map((o) => [o, 'binary']), 'pg binary RowDescription')
    assertBinaryRow(bin.fields.map((f) => bin.rows[0]![f.name] ?? null), ASCII_SAFE, 'pg binary')

    // A named statement, parsed once and executed twice; and a multi-statement simple query.
    for (const sev of [3, 7]) {
      const named = await client.query({ name: 'fedgres_probe_count', text: 'select count(*) as n from alerts where severity > $1', values: [sev] })
      assert.deepEqual(named.rows, [{ n: '0' }], `named statement run with ${sev}`)
    }
    const multi = (await client.query('select 1 as a; select $$x$$ as b')) as unknown as pg.QueryResult[]
    assert.deepEqual(multi.map((r) => r.rows), [[{ a: 1 }], [{ b: 'x' }]], 'multi-statement simple query')
    const failed = await client.query('select 1/0').then(() => undefined, (e: pg.DatabaseError) => e)
    assert.equal(failed?.code, '22012', 'division by zero is SQLSTATE 22012')
    assert.equal(failed?.routine, 'int4div', 'the error names where PostgreSQL raised it')
    assert.deepEqual((await client.query('select 2 as ok')).rows, [{ ok: 2 }], 'session usable after an error')
    return { serverVersion, textRow: text.rows[0] as unknown[] }
  } finally {
    await client.end()
    await binaryClient.end()
  }
}

/** Every byte of the binary encodings, on a raw session, so no client library can hide a flaw. */
export async function checkBinaryWire(server: ServerUnderTest): Promise<void> {
  const session = await RawSession.login(server)
  try {
    for (const p of [ASCII_SAFE, HOSTILE]) {
      const params = probeParams(p).map((v) => (Array.isArray(v) ? arrayLiteral(v) : v))
      const res = await session.extendedBinary(PROBE_SQL, params)
      assert.deepEqual(res.fields.map((f) => [f.typeOid, f.format]), PROBE_OIDS.map((o) => [o, 1]), 'binary RowDescription')
      assert.equal(res.rows.length, 1)
      assertBinaryRow(res.rows[0]!, p, `raw binary ${p === HOSTILE ? 'hostile' : 'ascii'} values`)
    }
  } finally {
    session.close()
  }
}

/** A text[] literal: every element quoted, NULL bare. */
const arrayLiteral = (a: readonly (string | null)[]) =>
  `{${a.map((e) => (e === null ? 'NULL' : `"${e.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`

/** Kysely's typname for each column type, as its introspector reports `dataType`. */
const kyselyType: Record<PgType, string> = { timestamptz: 'timestamptz', text: 'text', integer: 'int4', bigint: 'int8', jsonb: 'jsonb', 'text[]': '_text' }

export async function checkKysely(server: ServerUnderTest): Promise<void> {
  const db = new Kysely<FedgresDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ ...connectionConfig(server), max: 2 }) }) })
  try {
    const rows = await db
      .selectFrom('alerts')
      .select(['time', 'edge_id', 'severity', 'event_data', 'policy_tags'])
      .where('severity', '>', 5)
      .where('namespace_name', '=', "O'Reilly")
      .orderBy('time', 'desc')
      .limit(10)
      .execute()
    // The row type comes from schema/row-types.ts: this line fails to compile if it drifts.
    const typed: Pick<AlertRow, 'time' | 'edge_id' | 'severity' | 'event_data' | 'policy_tags'>[] = rows
    assert.deepEqual(typed, [], 'typed select over alerts')
    const count = await db.selectFrom('alerts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
    assert.equal(count.n, '0', 'count(*) over alerts (int8 arrives as a string)')
    const tables = await db.introspection.getTables()
    const alerts = tables.find((t) => t.schema === 'public' && t.name === 'alerts')
    assert.ok(alerts, `Kysely introspection lacks public.alerts: ${tables.map((t) => `${t.schema}.${t.name}`).join(', ')}`)
    assert.ok(tables.some((t) => t.schema === 'public' && t.name === 'logs'), 'Kysely introspection lacks public.logs')
    assert.deepEqual(
      alerts.columns.map((c) => [c.name, c.dataType, c.isNullable]),
      alertColumns.map((c) => [c.name, kyselyType[c.type], !c.notNull]),
      'Kysely introspection of alerts: name, dataType, isNullable',
    )
  } finally {
    await db.destroy()
  }
}
