/**
 * Custom settings (placeholders such as `myapp.tenant`) belong to the session that defined them,
 * as in PostgreSQL 18, though the gateway's sessions share one catalog engine: the same steps, in
 * several sessions on each server, must give the same answers.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { startNativePostgres, type NativePg } from '../helpers/native-pg.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'

/** [session, statement]; 'end' as the statement closes that session; parameters after `|`. */
type Step = readonly [string, string]

const SCRIPTS: Record<string, Step[]> = {
  'a custom setting one session defined does not exist in another': [
    ['a', "SET myapp.x = 'a'"], ['a', "SELECT current_setting('myapp.x', true)"], ['b', "SELECT current_setting('myapp.x', true)"],
    ['b', "SELECT current_setting('myapp.x')"], ['b', 'SHOW myapp.x'], ['b', "SELECT coalesce(current_setting('MyApp.X', true), 'none')"],
    ['b', "SELECT CASE WHEN false THEN current_setting('myapp.x') END"], ['b', "SELECT upper(current_setting('myapp.x'))"],
    ['b', "SELECT pg_settings_get_flags('myapp.x')"], ['b', "SELECT count(*) FROM pg_settings WHERE name LIKE 'myapp.%'"],
    ['b', 'BEGIN'], ['b', "SET LOCAL myapp.x = 'b'"], ['b', "SELECT current_setting('myapp.x')"], ['b', 'ROLLBACK'],
    ['b', "SELECT current_setting('myapp.x', true)"], ['b', 'SHOW myapp.x'], ['a', 'SHOW myapp.x'],
    ['c', "SELECT current_setting('myapp.x', true), nosuchcol"], ['c', "SELECT  set_config('myapp.n', 'v', false) FROM nosuchtable"],
  ],
  'RESET, SET LOCAL, ROLLBACK and set_config leave the setting defined, as empty, in that session only': [
    ['a', "SET myapp.r = 'a'"], ['a', 'RESET myapp.r'], ['a', 'SHOW myapp.r'], ['a', 'BEGIN'], ['a', "SET LOCAL myapp.l = 'b'"], ['a', 'COMMIT'],
    ['a', "SELECT current_setting('myapp.l', true)"], ['a', 'BEGIN'], ['a', "SET myapp.rb = 'c'"], ['a', 'ROLLBACK'], ['a', 'SHOW myapp.rb'],
    ['a', "SELECT set_config('myapp.ss', 'e', false)"], ['a', 'RESET myapp.never'], ['a', "SELECT current_setting('myapp.never', true)"],
    ['b', "SELECT current_setting('myapp.r', true), current_setting('myapp.l', true), current_setting('myapp.rb', true), current_setting('myapp.ss', true), current_setting('myapp.never', true)"],
    ['b', 'SHOW myapp.ss'], ['b', 'RESET ALL'], ['b', 'SHOW myapp.ss'], ['a', 'end'],
    ['c', "SELECT current_setting('myapp.ss', true)"], ['c', "SELECT set_config('myapp.ss', 'c', false)"], ['c', 'SHOW myapp.ss'],
  ],
  'a set_config() PostgreSQL never evaluates sets nothing': [
    ['a', "SELECT set_config('myapp.u1', '1', false) FROM pg_class LIMIT 0"], ['a', "SELECT current_setting('myapp.u1', true)"],
    ['a', "SELECT CASE WHEN false THEN set_config('myapp.u2', '1', false) END"], ['a', "SELECT current_setting('myapp.u2', true)"],
    ['a', "SELECT set_config('myapp.u3', '1', false) WHERE false"], ['a', 'SHOW myapp.u3'],
    ['a', "SELECT set_config('myapp.u4', v, false) FROM (VALUES ('p'), ('q')) t(v)"], ['a', "SELECT current_setting('myapp.u4')"],
    ['a', "SELECT set_config('search_path', 'pg_catalog', false) WHERE false"], ['a', 'SHOW search_path'],
    ['a', 'BEGIN'], ['a', "SELECT set_config('myapp.lo', 'v', true) FROM pg_class LIMIT 0"], ['a', "SELECT current_setting('myapp.lo', true)"], ['a', 'COMMIT'],
    ['a', "SELECT current_setting('myapp.lo', true)"],
    ['a', 'BEGIN'], ['a', "SELECT set_config('myapp.lc', v, true) FROM (VALUES ('w')) t(v)"], ['a', "SELECT current_setting('myapp.lc', true)"], ['a', 'COMMIT'],
    ['a', "SELECT current_setting('myapp.lc', true)"],
    ['a', 'BEGIN'], ['a', "SET LOCAL myapp.sv = 'v'"], ['a', "SELECT set_config('myapp.sv', 'v', false)"], ['a', 'COMMIT'], ['a', "SELECT current_setting('myapp.sv', true)"],
  ],
  'a computed name reads the setting as the session has it': [
    ['a', "SET myapp.m = 'a'"], ['b', "SELECT current_setting(n, true) FROM (VALUES ('MYAPP.m'), ('work_mem'), ('myapp.zz')) v(n)"],
    ['b', "SELECT current_setting(n) FROM (VALUES ('myapp.m')) v(n)"], ['a', "SELECT current_setting(n) FROM (VALUES ('myapp.m')) v(n)"],
    ['b', "SELECT current_setting(relname::text || '.m', true) FROM pg_class WHERE relname = 'pg_class'"],
    ['b', 'SELECT current_setting($1, true)|myapp.m'], ['b', 'SELECT current_setting($1)|myapp.m'], ['b', 'SELECT current_setting($1, true)|work_mem'],
    ['a', 'SELECT current_setting($1)|myapp.m'], ['b', "SELECT set_config('myapp.p', $1, false)|7"], ['b', 'SHOW myapp.p'],
  ],
}

/** A statement's answer; with `values`, through the extended protocol. */
async function answer(c: pg.Client, sql: string, values: string[]): Promise<string> {
  try {
    const r = await c.query({ text: sql, rowMode: 'array', ...(values.length > 0 ? { values } : {}) })
    return JSON.stringify({ command: r.command, columns: r.fields.map((f) => f.name), rows: r.rows })
  } catch (e) {
    const err = e as { code?: string; message?: string; position?: string }
    return `ERROR ${err.code} ${err.message}${err.position ? ` at ${err.position}` : ''}`
  }
}

describe('custom settings per session, against PostgreSQL 18', () => {
  let native: NativePg | undefined
  let gw: GatewayFixture | undefined
  before(async () => {
    ;[native, gw] = await Promise.all([startNativePostgres({ schema: true, postgresFlags: ['-c', 'timezone=UTC'] }), startTestGateway()])
  })
  after(async () => {
    await native?.stop()
    await gw?.stop()
  })

  async function transcript(config: pg.ClientConfig, steps: readonly Step[], prefix: string): Promise<string[]> {
    const sessions = new Map<string, pg.Client>()
    const lines: string[] = []
    try {
      for (const [who, sql0] of steps) {
        if (sql0 === 'end') {
          await sessions.get(who)?.end()
          sessions.delete(who)
          continue
        }
        let c = sessions.get(who)
        if (!c) {
          c = new pg.Client(config)
          await c.connect()
          sessions.set(who, c)
        }
        const [text, ...params] = sql0.split('|')
        const sql = text!.replace(/myapp/gi, (m) => (m === 'myapp' ? prefix : prefix.toUpperCase()))
        const values = params.map((p) => p.replace(/myapp/g, prefix))
        lines.push(`${who}> ${sql} ${values.join(',')}`, `  ${(await answer(c, sql, values)).replaceAll(prefix, 'myapp').replaceAll(prefix.toUpperCase(), 'MYAPP')}`)
      }
    } finally {
      for (const c of sessions.values()) await c.end()
    }
    return lines
  }

  let n = 0
  for (const [title, steps] of Object.entries(SCRIPTS)) {
    test(title, async () => {
      // A prefix of its own: the gateway's engine, like a PostgreSQL backend, never forgets a custom setting.
      const prefix = `t${++n}app`
      const expected = await transcript({ host: native!.host, port: native!.port, user: native!.user, password: native!.password, database: native!.database }, steps, prefix)
      const actual = await transcript({ host: '127.0.0.1', port: gw!.port, user: gw!.user, password: gw!.password, database: gw!.database }, steps, prefix)
      assert.deepEqual(actual, expected)
    })
  }
})
