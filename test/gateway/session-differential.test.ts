/**
 * The session layer against native PostgreSQL 18: the same statements, in the same session
 * order, must give the same messages (tags, rows, warnings, errors, transaction status), for the
 * simple and the extended protocol.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FrontendEncoder } from '../../common/pgwire/index.js'
import { RawSession, frontendMessage, type ServerUnderTest } from '../clients/index.js'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'
import pg from 'pg'
import { exchange } from '../helpers/transcript.js'
import { runProcess } from '../clients/psql-client.js'

const enc = new FrontendEncoder()

/** Equal transcripts, or a failure showing where they part, with context from both. */
function sameTranscript(actual: string[], expected: string[]): void {
  const n = Math.max(actual.length, expected.length)
  for (let i = 0; i < n; i++) {
    if (actual[i] === expected[i]) continue
    const from = Math.max(0, i - 6)
    const show = (xs: string[]) => xs.slice(from, i + 6).map((l, k) => `${from + k === i ? '>>' : '  '} ${l}`).join('\n')
    assert.fail(`transcripts differ at line ${i}:\n--- PostgreSQL 18\n${show(expected)}\n--- gateway\n${show(actual)}`)
  }
}
const q = (sql: string) => enc.query(sql).take()

/** Scripts of simple queries; each runs in a fresh session on both servers. */
const SCRIPTS: Record<string, string[]> = {
  'settings follow transactions, savepoints, SET LOCAL and RESET': [
    'SHOW DateStyle', "SET DateStyle = 'German'", 'SHOW DateStyle', 'BEGIN', "SET DateStyle = 'SQL, DMY'", 'SHOW DateStyle', 'ROLLBACK', 'SHOW DateStyle',
    'BEGIN', 'SAVEPOINT a', "SET search_path = pg_catalog", 'SHOW search_path', 'ROLLBACK TO a', 'SHOW search_path', 'RELEASE a', 'RELEASE a', 'ROLLBACK',
    "SET LOCAL DateStyle = 'Postgres'", 'SHOW DateStyle', 'BEGIN', "SET LOCAL DateStyle = 'Postgres'", 'SHOW DateStyle', 'COMMIT', 'SHOW DateStyle',
    'RESET DateStyle', 'SHOW DateStyle', "SET TimeZone = 'Europe/Paris'", "SELECT '2026-01-01 12:00:00+00'::timestamptz", 'RESET ALL', 'SHOW TimeZone',
    "SET DateStyle = 'bogus'", "SET no_such_parameter = 1",
  ],
  // The warnings the gateway makes itself follow client_min_messages, as PostgreSQL's do.
  'client_min_messages silences the gateway\'s own warnings': [
    'SET client_min_messages = error', 'ROLLBACK', 'COMMIT', 'BEGIN', 'BEGIN', 'ROLLBACK', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
    "SET LOCAL TimeZone = 'UTC'", 'SET client_min_messages = warning', 'ROLLBACK', 'SET client_min_messages = log', 'COMMIT',
    "SELECT set_config('client_min_messages', 'error', false)", 'ROLLBACK', 'RESET client_min_messages', 'ROLLBACK',
  ],
  // Two-phase commit as PostgreSQL answers it with max_prepared_transactions = 0: PREPARE TRANSACTION ends the block.
  'PREPARE TRANSACTION, COMMIT PREPARED and ROLLBACK PREPARED': [
    "PREPARE TRANSACTION 'x'", 'BEGIN', "SET TimeZone = 'Asia/Tokyo'", "PREPARE TRANSACTION 'x'", 'SHOW TimeZone', 'SELECT 1',
    "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'", 'BEGIN', "COMMIT PREPARED 'x'", 'ROLLBACK', 'BEGIN', 'SELECT 1/0', "PREPARE TRANSACTION 'y'", 'SELECT 2',
  ],
  'custom fedgres.* settings, set_config and current_setting': [
    'SET fedgres.partial_results = on', 'SHOW fedgres.partial_results', "SELECT current_setting('fedgres.partial_results')",
    "SELECT set_config('fedgres.edge_timeout', '5s', false)", 'SHOW fedgres.edge_timeout', 'BEGIN', "SELECT set_config('fedgres.max_gather_rows', '10', true)",
    'SHOW fedgres.max_gather_rows', 'COMMIT', "SELECT current_setting('fedgres.max_gather_rows', true)", 'RESET fedgres.partial_results', 'SHOW fedgres.partial_results',
  ],
  'a run-time error after some rows: the rows come first, then the error': [
    'SELECT 1/(g-2) AS x FROM generate_series(1, 3) g', 'SELECT 1', 'BEGIN', "SELECT g, (ARRAY[1, 2])[g] / (2 - g) FROM generate_series(1, 4) g", 'SELECT 1', 'ROLLBACK',
    "SELECT CASE WHEN g < 3 THEN g ELSE (g::text || 'x')::int END FROM generate_series(1, 5) g",
  ],
  'transaction blocks: warnings, failed blocks, isolation levels': [
    'COMMIT', 'ROLLBACK', 'BEGIN', 'BEGIN', 'COMMIT', 'BEGIN', 'SELECT 1/0', 'SELECT 1', 'COMMIT', 'SELECT 1',
    'SHOW TRANSACTION ISOLATION LEVEL', 'BEGIN ISOLATION LEVEL SERIALIZABLE', 'SHOW transaction_isolation', 'COMMIT', 'SHOW transaction_isolation',
    'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'START TRANSACTION', 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'SHOW transaction_isolation', 'ROLLBACK',
    'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'SHOW default_transaction_isolation',
    'SAVEPOINT x', 'BEGIN', 'SAVEPOINT x', 'SELECT 1/0', 'ROLLBACK TO x', 'SELECT 2', 'ROLLBACK',
    'DISCARD ALL', 'BEGIN', 'DISCARD ALL', 'ROLLBACK', 'DEALLOCATE nothing_here', 'DEALLOCATE ALL', 'UNLISTEN *', 'CLOSE ALL',
  ],
  'cursors: DECLARE, FETCH, MOVE, CLOSE, WITH HOLD, SCROLL': [
    'DECLARE d CURSOR FOR SELECT 1', 'BEGIN', 'DECLARE c CURSOR FOR SELECT g, g * 2 AS h FROM generate_series(1, 10) g', 'FETCH 3 FROM c', 'FETCH FORWARD 2 c',
    'MOVE 2 IN c', 'FETCH NEXT FROM c', 'FETCH ALL FROM c', 'FETCH 1 FROM c', 'CLOSE c', 'FETCH 1 FROM c', 'ROLLBACK',
    'DECLARE h CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 5) g', 'FETCH 2 h', 'FETCH 2 IN h', 'CLOSE ALL', 'FETCH 1 h',
    'BEGIN', 'DECLARE s SCROLL CURSOR FOR SELECT g FROM generate_series(1, 5) g', 'FETCH 3 s', 'FETCH BACKWARD 1 s', 'FETCH PRIOR s', 'FETCH ABSOLUTE 5 s',
    'FETCH RELATIVE -2 s', 'MOVE ABSOLUTE 0 IN s', 'FETCH 2 s', 'DECLARE s CURSOR FOR SELECT 1', 'ROLLBACK',
    'BEGIN', 'DECLARE n NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 5) g', 'FETCH 2 n', 'FETCH BACKWARD 1 n', 'ROLLBACK',
    'BEGIN', 'DECLARE b BINARY CURSOR FOR SELECT 1::int4 AS one', 'FETCH 1 b', 'COMMIT',
  ],
  'cursors follow the transaction: ROLLBACK drops what it declared, WITH HOLD too; ROLLBACK TO what the savepoint declared; a failed FETCH fails the cursor': [
    'BEGIN', 'DECLARE h CURSOR WITH HOLD FOR SELECT 1 AS x', 'ROLLBACK', 'FETCH 1 IN h', 'DECLARE h CURSOR WITH HOLD FOR SELECT 2 AS x', 'FETCH 1 IN h', 'CLOSE h',
    'BEGIN', 'DECLARE k CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 3) g', 'COMMIT', 'BEGIN', 'FETCH 1 k', 'ROLLBACK', 'FETCH 1 k', 'CLOSE k',
    'BEGIN', 'SAVEPOINT s', 'DECLARE c4 CURSOR FOR SELECT 1', 'ROLLBACK TO s', 'FETCH 1 IN c4', 'ROLLBACK',
    'BEGIN', 'SAVEPOINT s', 'DECLARE c6 CURSOR FOR SELECT 1', 'RELEASE s', 'SAVEPOINT t', 'ROLLBACK TO t', 'FETCH 1 c6', 'ROLLBACK',
    'BEGIN', 'SAVEPOINT s', 'DECLARE c7 CURSOR FOR SELECT 1', 'SAVEPOINT t', 'RELEASE t', 'ROLLBACK TO s', 'FETCH 1 c7', 'ROLLBACK',
    'BEGIN', 'DECLARE n NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 3) g', 'SAVEPOINT s', 'FETCH BACKWARD 1 n', 'ROLLBACK TO s', 'FETCH 1 n', 'ROLLBACK',
  ],
  'several statements in one Query form an implicit transaction: an error undoes the SETs and cursors before it': [
    "SET statement_timeout = '7s'; SELECT 1/0", 'SHOW statement_timeout', "SET LOCAL statement_timeout = '9s'; SHOW statement_timeout", 'SHOW statement_timeout',
    "SET statement_timeout = '8s'; COMMIT; SELECT 1/0", 'SHOW statement_timeout', "SET statement_timeout = '6s'; ROLLBACK", 'SHOW statement_timeout',
    "SET statement_timeout = '5s'; BEGIN; SELECT 1/0", 'SHOW statement_timeout', 'ROLLBACK', 'SHOW statement_timeout',
    'DECLARE c CURSOR WITH HOLD FOR SELECT 1; FETCH 1 FROM c; SELECT 1/0', 'FETCH 1 FROM c', 'DECLARE d CURSOR FOR SELECT 2; FETCH 1 FROM d', 'FETCH 1 FROM d',
    'SELECT 1; SAVEPOINT x', 'SELECT 1; DISCARD ALL', "BEGIN; SET statement_timeout = '4s'; COMMIT; SHOW statement_timeout", 'RESET statement_timeout',
  ],
  'transaction modes: BEGIN READ ONLY DEFERRABLE; modes fixed once a statement has read': [
    'BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE', 'SHOW transaction_deferrable', 'SHOW transaction_read_only', 'SHOW transaction_isolation', 'COMMIT',
    'SHOW transaction_deferrable', 'BEGIN', 'SELECT 1', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'ROLLBACK',
    'BEGIN', 'SELECT 1', 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', 'SET TRANSACTION READ ONLY', 'SHOW transaction_read_only', 'SET TRANSACTION DEFERRABLE', 'ROLLBACK',
    'BEGIN', 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'SHOW transaction_isolation', 'SELECT 1', 'SHOW transaction_isolation', 'COMMIT',
    'BEGIN', 'SAVEPOINT s', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'ROLLBACK', 'BEGIN', 'SAVEPOINT s', 'SET TRANSACTION DEFERRABLE', 'ROLLBACK',
    'SELECT 1; BEGIN ISOLATION LEVEL SERIALIZABLE', 'BEGIN ISOLATION LEVEL SERIALIZABLE; SHOW transaction_isolation', 'COMMIT AND CHAIN', 'SHOW transaction_isolation',
    'SELECT 1/0', 'ROLLBACK AND CHAIN', 'SHOW transaction_isolation', 'COMMIT', 'COMMIT AND CHAIN', 'SELECT 1; COMMIT AND CHAIN',
    'BEGIN ISOLATION LEVEL REPEATABLE READ', 'SELECT 1/0', 'ROLLBACK AND CHAIN', 'SHOW transaction_isolation', 'ROLLBACK',
    'BEGIN', 'DECLARE c CURSOR FOR SELECT $1', 'ROLLBACK', 'COPY (SELECT $1) TO STDOUT',
  ],
  'an error undoes the failed transaction\'s settings at once (ParameterStatus before ReadyForQuery), a savepoint\'s only its own': [
    'BEGIN', "SET DateStyle = 'German'", 'SELECT 1/0', 'ROLLBACK', 'SHOW DateStyle',
    "SET DateStyle = 'German'; BEGIN; SET TimeZone = 'Asia/Tokyo'; SELECT 1/0", 'ROLLBACK', 'SHOW DateStyle',
    'BEGIN', "SET DateStyle = 'SQL, DMY'", 'SAVEPOINT a', "SET TimeZone = 'Asia/Tokyo'", 'SELECT 1/0', 'ROLLBACK TO a', 'SHOW TimeZone', 'SHOW DateStyle', 'ROLLBACK', 'SHOW DateStyle',
  ],
  // One CopyData per row, the binary header with the first row, or with the trailer when there is none.
  'binary COPY: the header travels with the first row': [
    'COPY (SELECT g AS n FROM generate_series(1, 3) g) TO STDOUT (FORMAT binary)', 'COPY (SELECT 1 AS n WHERE false) TO STDOUT (FORMAT binary)',
    'COPY (SELECT count(*) AS n FROM alerts) TO STDOUT (FORMAT binary)', 'COPY (SELECT time, pid FROM logs) TO STDOUT (FORMAT binary)',
  ],
  'SET SESSION CHARACTERISTICS sets the defaults RESET undoes': [
    'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ', 'SHOW default_transaction_isolation', 'RESET default_transaction_isolation',
    'SHOW default_transaction_isolation', 'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET default_transaction_isolation TO DEFAULT', 'SHOW default_transaction_isolation',
  ],
  'queries: multi-statement, empty, comments, errors and the catalog': [
    '', ';', '-- only a comment', '/* a block comment */', 'SELECT 1; SELECT 2 AS two', 'SELECT 1; SELECT 1/0; SELECT 3', 'selec 1', 'SELECT * FROM no_such_table',
    'SELECT no_such_column FROM alerts', 'SELECT count(*) FROM alerts', 'SELECT * FROM logs LIMIT 1', "SELECT 'héllo ✓'::text, NULL::int, ARRAY['a', NULL]",
    "SELECT relname FROM pg_class WHERE relname IN ('alerts', 'logs') ORDER BY 1", 'SELECT count(*) FROM information_schema.columns WHERE table_name = $$alerts$$',
  ],
  // PostgreSQL reports what fails while running (not while planning) after the RowDescription,
  // and a DECLARE does not run its query: the FETCH fails.
  'federated reads that fail while running: RowDescription first; DECLARE succeeds, FETCH fails; COPY after CopyOutResponse': [
    'SELECT count(*) / 0 FROM alerts', 'SELECT edge_id, count(*) / 0 FROM logs GROUP BY 1', 'SELECT count(*) + 1/0 FROM alerts',
    'SELECT 1; SELECT count(*) / 0 FROM alerts; SELECT 2', 'BEGIN', 'DECLARE c CURSOR FOR SELECT count(*) / 0 FROM alerts', 'FETCH 1 c', 'ROLLBACK',
    'COPY (SELECT count(*) / 0 FROM logs) TO STDOUT',
  ],
  // The gateway keeps its replies to constant-only SELECTs (literal-memo.ts): a kept reply must
  // still follow the settings that change a literal, and the transaction state.
  'constant SELECTs, asked again, under other settings and in a failed block': [
    'SELECT 1', 'SELECT 1', "SELECT 1 AS a, 'x' AS b, NULL AS c, true AS d, 1.50 AS e, B'101' AS f, 9999999999 AS g, -1 AS h",
    "SELECT 1 AS a, 'x' AS b, NULL AS c, true AS d, 1.50 AS e, B'101' AS f, 9999999999 AS g, -1 AS h", "SELECT 'a\\b' AS s", "SELECT 'a\\b' AS s",
    'SET standard_conforming_strings = on', "SELECT 'a\\b' AS s", 'RESET standard_conforming_strings', "SELECT 'a\\b' AS s",
    "SELECT 'héllo' AS s", 'SET client_encoding = SQL_ASCII', "SELECT 'héllo' AS s", "SELECT 'héllo' AS s", 'RESET client_encoding', "SELECT 'héllo' AS s",
    "SET client_encoding = 'bogus'", "SET NAMES 'utf-8'", 'SHOW client_encoding',
    'BEGIN', 'SELECT 1', 'SELECT 1/0', 'SELECT 1', 'ROLLBACK', 'SELECT 1', 'SELECT 1 LIMIT 0', 'SELECT 1 WHERE false', 'SELECT 1 UNION SELECT 2',
  ],
}

describe('session layer: the gateway answers as PostgreSQL 18 does', () => {
  let native: NativePg | undefined
  let gw: GatewayFixture | undefined
  before(async () => {
    // The shadow's default time zone is UTC; a native server's is the machine's (Etc/UTC here).
    // The native server knows Fedgres's settings with the gateway's defaults, as the gateway does.
    const fedgresDefaults = ['fedgres.edge_timeout=30000ms', 'fedgres.max_gather_rows=1000000', 'fedgres.partial_results=off'].flatMap((s) => ['-c', s])
    ;[native, gw] = await Promise.all([startNativePostgres({ schema: true, postgresFlags: ['-c', 'timezone=UTC', ...fedgresDefaults] }), startTestGateway()])
  })
  after(async () => {
    await native?.stop()
    await gw?.stop()
  })
  const servers = (): ServerUnderTest[] => [
    { host: native!.host, port: native!.port, user: native!.user, password: native!.password, database: native!.database, tls: false },
    { host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database, tls: false },
  ]

  async function transcripts(run: (s: RawSession) => Promise<string[]>): Promise<[string[], string[]]> {
    const out: string[][] = []
    for (const srv of servers()) {
      const s = await RawSession.login(srv)
      try {
        out.push(await run(s))
      } finally {
        s.close()
      }
    }
    return [out[0]!, out[1]!]
  }

  for (const [title, script] of Object.entries(SCRIPTS)) {
    test(title, async () => {
      const [expected, actual] = await transcripts(async (s) => {
        const lines: string[] = []
        for (const sql of script) lines.push(`> ${sql}`, ...(await exchange(s, q(sql))))
        return lines
      })
      sameTranscript(actual, expected)
    })
  }

  const EXTENDED: Record<string, (e: FrontendEncoder) => Buffer> = {
    'named statements and portals, Describe S and P, several per Sync, Close': (e) =>
      e.parse('s1', 'SELECT $1::int4 + 1 AS n, $2::text AS t', [23, 0]).describe('S', 's1').bind('p1', 's1', [0, 0], [Buffer.from('41'), Buffer.from('x')], [0])
        .describe('P', 'p1').execute('p1', 0).bind('', 's1', [], [Buffer.from('1'), null], [1]).describe('P', '').execute('', 0)
        .close('P', 'p1').close('S', 's1').close('S', 'never-existed').sync().take(),
    'Execute with a row limit suspends the portal, inside a transaction': (e) =>
      e.query('BEGIN').parse('', 'SELECT g FROM generate_series(1, 5) g', []).bind('c1', '', [], [], []).execute('c1', 2).execute('c1', 2).execute('c1', 2)
        .execute('c1', 2).sync().query('COMMIT').take(),
    'an error skips to Sync, and the next Sync starts clean': (e) =>
      e.parse('', 'SELECT 1/0', []).bind('', '', [], [], []).execute('', 0).parse('', 'SELECT 1', []).bind('', '', [], [], []).execute('', 0).sync()
        .parse('', 'SELECT 2', []).bind('', '', [], [], []).execute('', 0).sync().take(),
    'errors at Parse and Bind: syntax, duplicate name, unknown statement, wrong parameter count': (e) =>
      e.parse('', 'SELEC 1', []).sync().parse('dup', 'SELECT 1', []).parse('dup', 'SELECT 2', []).sync().bind('', 'nope', [], [], []).sync()
        .parse('two', 'SELECT $1::int', []).bind('', 'two', [], [], []).sync().parse('', 'SELECT 1; SELECT 2', []).sync().take(),
    'session statements through the extended protocol': (e) =>
      e.parse('', 'BEGIN', []).bind('', '', [], [], []).describe('P', '').execute('', 0).parse('', "SET application_name = 'ext'", []).bind('', '', [], [], [])
        .execute('', 0).parse('', 'SHOW application_name', []).bind('', '', [], [], []).describe('P', '').execute('', 0).parse('', 'COMMIT', [])
        .bind('', '', [], [], []).execute('', 0).sync().take(),
    'an error of analysis fails the Parse, leaves the name free and aborts the transaction': (e) =>
      e.parse('q1', 'SELECT nocol FROM pg_class', []).sync().parse('q1', 'SELECT 1 AS one', []).bind('', 'q1', [], [], []).execute('', 0).sync()
        .parse('', 'SELECT $2', []).sync().query('BEGIN').parse('', 'SELECT nocol FROM pg_class', []).sync()
        .parse('', 'SELECT 1', []).bind('', '', [], [], []).execute('', 0).sync().query('ROLLBACK').take(),
    'Execute and Describe of portals that do not exist, unnamed and named': (e) =>
      e.execute('', 0).sync().describe('P', 'nope').sync().bind('', 'nope', [], [], []).sync().take(),
    'DECLARE with parameters bound to it': (e) =>
      e.query('BEGIN').parse('', 'DECLARE c CURSOR FOR SELECT $1::int AS v, $2::text AS t', []).bind('', '', [0, 0], [Buffer.from('5'), Buffer.from('x')], [])
        .execute('', 0).sync().query('FETCH 1 c').query('COMMIT').take(),
    'statements until Sync form one implicit transaction: an error undoes a SET before it': (e) =>
      e.parse('', "SET statement_timeout = '7s'", []).bind('', '', [], [], []).execute('', 0).parse('', 'SELECT 1/0', []).bind('', '', [], [], []).execute('', 0).sync()
        .query('SHOW statement_timeout').parse('', "SET statement_timeout = '3s'", []).bind('', '', [], [], []).execute('', 0).sync().query('SHOW statement_timeout')
        .parse('', "SET statement_timeout = '2s'", []).bind('', '', [], [], []).execute('', 0).parse('', 'BEGIN', []).bind('', '', [], [], []).execute('', 0)
        .parse('', 'SELECT 1/0', []).bind('', '', [], [], []).execute('', 0).sync().query('ROLLBACK').query('SHOW statement_timeout').take(),
    'an extended batch outside a block is a transaction: SET LOCAL and set_config(..., true) hold until Sync, a SET at Bind is undone by a later error, DISCARD ALL after a statement is refused': (e) =>
      e.parse('', "SET LOCAL DateStyle = 'German'", []).bind('', '', [], [], []).execute('', 0).parse('', 'SHOW DateStyle', []).bind('', '', [], [], []).execute('', 0).sync()
        .query('SHOW DateStyle').parse('', "SELECT set_config('DateStyle', 'SQL', true)", []).bind('', '', [], [], []).execute('', 0).parse('', 'SHOW DateStyle', []).bind('', '', [], [], []).execute('', 0).sync()
        .parse('', "SELECT set_config('DateStyle', 'Postgres', false)", []).bind('', '', [], [], []).execute('', 0).parse('', 'SELECT 1/0', []).bind('', '', [], [], []).execute('', 0).sync()
        .query('SHOW DateStyle').parse('', 'SELECT 1', []).bind('', '', [], [], []).execute('', 0).parse('', 'DISCARD ALL', []).bind('', '', [], [], []).execute('', 0).sync().take(),
    'in an aborted block, Execute and Describe of what returns rows are 25P02; a finished command portal cannot run again': (e) =>
      e.query('BEGIN').parse('s', 'SELECT g FROM generate_series(1, 5) g', []).bind('p1', 's', [], [], []).execute('p1', 2).sync().query('SELECT 1/0')
        .execute('p1', 2).sync().describe('S', 's').sync().describe('P', 'p1').sync().query('ROLLBACK')
        .parse('', 'BEGIN', []).bind('', '', [], [], []).execute('', 0).execute('', 0).sync().query('ROLLBACK').take(),
    'FETCH bound with binary result formats; Describe of MOVE is NoData; portals bound since a savepoint go with ROLLBACK TO': (e) =>
      e.query('BEGIN').query("DECLARE c CURSOR FOR SELECT g::int4 AS i, g::int8 * 1000000000 AS b, 'x' || g AS t, g * 0.5 AS n, ARRAY[g, NULL] AS a FROM generate_series(1, 6) g")
        .parse('f', 'FETCH 2 FROM c', []).bind('', 'f', [], [], [1]).describe('P', '').execute('', 0).bind('', 'f', [], [], [0, 1, 0, 1, 1]).describe('P', '').execute('', 0).sync()
        .parse('m', 'MOVE 1 IN c', []).describe('S', 'm').bind('', 'm', [], [], []).execute('', 0).sync()
        .query('SAVEPOINT s').parse('', 'SELECT g FROM generate_series(1, 10) g', []).bind('p1', '', [], [], []).execute('p1', 1).sync().query('ROLLBACK TO s')
        .execute('p1', 1).sync().query('ROLLBACK').take(),
    // PostgreSQL reads a whole message, then its body: one that does not decode is an ERROR (a
    // skip to Sync after an extended-protocol message), not a FATAL that drops the connection.
    'a message whose body does not decode is an ERROR and the session goes on: format codes, counts, subtypes, strings, trailing bytes': (e) => {
      const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff])
      const text = (s: string) => Buffer.concat([Buffer.from([0, 0, 0, Buffer.byteLength(s)]), Buffer.from(s)])
      const bind = (...parts: Buffer[]) => frontendMessage('B', Buffer.concat([Buffer.from('\0\0'), ...parts]))
      const then = (...frames: Buffer[]) => Buffer.concat([e.take(), ...frames])
      return Buffer.concat([
        e.parse('', 'SELECT $1::int4 AS n').take(), then(bind(int16(1), int16(2), int16(1), text('5'), int16(0))), e.execute('', 0).sync().query('SELECT 1').take(),
        e.parse('', 'SELECT $1::int4 + $2::int4 AS n').take(), then(bind(int16(3), int16(0), int16(0), int16(0), int16(2), text('5'), text('6'), int16(0))), e.execute('', 0).sync().take(),
        e.parse('', 'SELECT 1').take(), then(frontendMessage('D', Buffer.from('X\0')), frontendMessage('C', Buffer.from('X\0'))), e.sync().take(),
        then(frontendMessage('Q', Buffer.from('SELECT 1'))), e.query('SELECT 2').take(),
        e.parse('', 'SELECT 1').take(), then(frontendMessage('S', Buffer.from('xx'))), e.sync().take(),
        e.parse('', 'SELECT 1').bind('', '', [], [], []).take(), then(frontendMessage('E', Buffer.from('\0\0\0\0\0z'))), e.sync().take(),
        e.query('BEGIN').parse('', 'SELECT $1::text AS t').take(), then(bind(int16(1), int16(-1), int16(1), text('x'), int16(0))), e.sync().query('SELECT 1').query('ROLLBACK').take(),
      ])
    },
    'an empty query through the extended protocol': (e) => e.parse('', '', []).bind('', '', [], [], []).describe('P', '').execute('', 0).sync().take(),
    'a federated read that fails while running: BindComplete and RowDescription, then the error at Execute, in a pipeline and in a block': (e) =>
      e.parse('', 'SELECT 1 AS one').bind('', '', [], [], []).execute('', 0).parse('', 'SELECT count(*) / 0 AS n FROM alerts').bind('', '', [], [], [1]).describe('P', '')
        .execute('', 0).parse('', 'SELECT 2').bind('', '', [], [], []).execute('', 0).sync()
        .query('BEGIN').parse('s', 'SELECT host_name, count(*) / 0 FROM logs GROUP BY 1').bind('p', 's', [], [], []).sync().describe('P', 'p').execute('p', 1).sync().query('ROLLBACK')
        // A parameter's bad value is still a Bind error, the statement's description kept or not.
        .parse('', 'SELECT count(*) FROM alerts WHERE pid = $1').bind('', '', [], ['5'], []).execute('', 0).sync()
        .parse('', 'SELECT count(*) FROM alerts WHERE pid = $1').bind('', '', [], ['5.0'], []).execute('', 0).sync().take(),
    'a constant SELECT in text, then binary, then text results; and with a parameter it does not take': (e) =>
      ([0, 1, 0, 1] as const).reduce((x, f) => x.parse('', "SELECT 1 AS one, 'x' AS t, 2.5 AS n", []).bind('', '', [], [], [f]).describe('P', '').execute('', 0).sync(), e)
        .parse('', 'SELECT 1', []).bind('', '', [0], [Buffer.from('7')], []).execute('', 0).sync().take(),
  }
  const syncsIn = (b: Buffer) => {
    let n = 0
    for (let pos = 0; pos < b.length; pos += 1 + b.readInt32BE(pos + 1)) if (b[pos] === 0x53 || b[pos] === 0x51) n++
    return n
  }
  for (const [title, build] of Object.entries(EXTENDED)) {
    test(`extended protocol: ${title}`, async () => {
      const [expected, actual] = await transcripts(async (s) => {
        const bytes = build(new FrontendEncoder())
        return exchange(s, bytes, syncsIn(bytes))
      })
      sameTranscript(actual, expected)
    })
  }

  test('client encodings other than UTF8 and SQL_ASCII are refused before they reach the shared shadow (0A000), and the session goes on', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database })
    await c.connect()
    try {
      for (const sql of ['SET client_encoding = LATIN1', "SET NAMES 'WIN1252'", "SELECT set_config('client_encoding', 'euc_jp', false)", "SELECT set_config(lower('CLIENT_ENCODING'), 'LATIN1', false)",
        "SELECT set_config('client_encoding', 'LATIN1', false), count(*) FROM alerts", "SELECT set_config('client_encoding', current_user, false)"]) {
        await assert.rejects(c.query(sql), (e: { code?: string; message?: string }) => e.code === '0A000' && /not supported/.test(e.message ?? ''), sql)
      }
      assert.deepEqual((await c.query("SHOW client_encoding")).rows, [{ client_encoding: 'UTF8' }])
      assert.deepEqual((await c.query("SELECT 'héllo' AS s")).rows, [{ s: 'héllo' }])
    } finally {
      await c.end()
    }
    // Asked for at startup (psql under PGCLIENTENCODING): refused at once, as a FATAL error naming the fix.
    const env: Record<string, string> = { PGHOST: '127.0.0.1', PGPORT: String(gw!.port), PGUSER: gw!.user, PGPASSWORD: gw!.password, PGDATABASE: gw!.database, PGSSLMODE: 'disable', PGCLIENTENCODING: 'LATIN1' }
    const psql = await runProcess('psql', ['-X', '-c', 'SELECT 1'], { env, timeoutMs: 30_000 })
    assert.notEqual(psql.code, 0)
    assert.match(psql.stderr, /FATAL: +conversion between LATIN1 and UTF8 is not supported/)
    // In `options`, below the client_encoding the driver names itself (node-postgres sends UTF8): that one wins, as in PostgreSQL.
    const latin = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database, options: '-c client_encoding=LATIN1' })
    await latin.connect()
    assert.deepEqual((await latin.query('SHOW client_encoding')).rows, [{ client_encoding: 'UTF8' }])
    await latin.end()
    // psql sends SQL_ASCII under the C locale: accepted, as PostgreSQL does.
    const ascii = await runProcess('psql', ['-X', '-At', '-c', 'SHOW client_encoding'], { env: { ...env, PGCLIENTENCODING: 'SQL_ASCII' }, timeoutMs: 30_000 })
    assert.equal(ascii.code, 0, ascii.stderr)
    assert.equal(ascii.stdout.trim(), 'SQL_ASCII')
    // Every other session is unharmed.
    const other = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database })
    await other.connect()
    assert.deepEqual((await other.query("SELECT 'ok' AS s, count(*)::int AS n FROM pg_class WHERE relname = 'alerts'")).rows, [{ s: 'ok', n: 1 }])
    await other.end()
  })

  test('settings the edges do not follow are taken at their default only (0A000 otherwise), and the session goes on', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database })
    await c.connect()
    try {
      for (const sql of ['SET standard_conforming_strings = off', 'SET standard_conforming_strings TO 0', 'SET transform_null_equals = on', 'SET array_nulls = false',
        "SET timezone_abbreviations = 'India'", "SET default_text_search_config = 'pg_catalog.simple'", 'SET quote_all_identifiers = yes', 'SET xmloption = document',
        "SET lc_numeric = 'de_DE.UTF-8'", "SET lc_time TO 'fr_FR.UTF-8'", "SET lc_monetary = ''",
        "SELECT set_config('transform_null_equals', 'on', false)"]) {
        await assert.rejects(c.query(sql), (e: { code?: string; message?: string }) => e.code === '0A000' && /^Fedgres does not support /.test(e.message ?? ''), sql)
      }
      // Their defaults are fine, as are the settings the edges follow.
      for (const sql of ['SET standard_conforming_strings = on', 'SET transform_null_equals = off', "SET default_text_search_config = 'english'", 'SET xmloption = content', "SET TimeZone = 'Asia/Kolkata'", "SET lc_numeric = 'C'", "SET lc_time = 'C.UTF-8'"]) await c.query(sql)
      assert.deepEqual((await c.query('SHOW transform_null_equals')).rows, [{ transform_null_equals: 'off' }])
    } finally {
      await c.end()
    }
  })

  test('a FETCH under other output settings than the DECLARE is refused (0A000), not written in the old ones', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database })
    await c.connect()
    try {
      await c.query('BEGIN')
      await c.query("DECLARE c CURSOR FOR SELECT TIMESTAMPTZ '2026-10-01 12:00:00+00' + g * interval '1 hour' AS t FROM generate_series(1, 5) g")
      assert.deepEqual((await c.query('FETCH 1 FROM c')).rows.map((r) => String(r.t instanceof Date ? r.t.toISOString() : r.t)), ['2026-10-01T13:00:00.000Z'])
      await c.query("SET TimeZone = 'Asia/Kolkata'")
      await assert.rejects(c.query('FETCH 1 FROM c'), (e: { code?: string; message?: string }) => e.code === '0A000' && e.message === 'cursor "c" was declared under other output settings')
      await c.query('ROLLBACK')
      await c.query('BEGIN')
      await c.query("DECLARE d CURSOR FOR SELECT TIMESTAMPTZ '2026-10-01 12:00:00+00' AS t")
      await c.query("SET TimeZone = 'Asia/Kolkata'")
      await c.query('MOVE 0 IN d')
      await c.query('RESET TimeZone')
      assert.equal((await c.query('FETCH 1 FROM d')).rowCount, 1, 'MOVE writes nothing out; the same settings again: fetched')
      await c.query('ROLLBACK')
    } finally {
      await c.end()
    }
  })

  test('an error\'s position counts from the start of the whole Query string, in a later statement or after blanks', async () => {
    const queries = [
      'select 1; select count(*) from nosuch',
      "SELECT 1;\n  SELECT 'é' || nosuchcol FROM pg_class",
      '   select nosuchcol from pg_class',
      "select 'héllo'; select 2; select severity / 0, nosuch.x from alerts",
      'select 1; selec 2',
    ]
    const positions: (string | undefined)[][] = []
    for (const srv of servers()) {
      const c = new pg.Client({ host: srv.host, port: srv.port, user: srv.user, password: srv.password, database: srv.database })
      await c.connect()
      try {
        const row: (string | undefined)[] = []
        for (const sql of queries) row.push(await c.query(sql).then(() => 'no error', (e: pg.DatabaseError) => `${e.code} at ${e.position}`))
        positions.push(row)
      } finally {
        await c.end()
      }
    }
    assert.deepEqual(positions[1], positions[0])
    assert.ok(positions[0]!.every((p) => p !== undefined && p !== 'no error' && !p.endsWith('undefined')), positions[0]!.join(', '))
  })

  test('Flush sends what is ready before Sync', async () => {
    for (const srv of servers()) {
      const s = await RawSession.login(srv)
      s.write(new FrontendEncoder().parse('', 'SELECT 1', []).flush().take())
      assert.equal((await s.expect()).type, '1')
      s.close()
    }
  })
})
