/**
 * psycopg2 and SQLAlchemy (the Debian python3 packages; the ORM stack of Superset and most
 * Python notebooks) through sqlalchemy_probe.py: reflection, autoload, a quoted bound
 * parameter and a server-side cursor. The probe prints what it saw; this file judges.
 */
import assert from 'node:assert/strict'
import { alertColumns, type PgType } from '../../schema/columns.js'
import type { ServerUnderTest } from './index.js'
import { clientAsset, runProcess } from './psql-client.js'

/** Exactly this interpreter: it has the Debian psycopg2 and SQLAlchemy, pyenv's does not. */
export const PYTHON = '/usr/bin/python3'

interface ProbeLine {
  check: string
  ok: boolean
  error?: string
  [key: string]: unknown
}

export interface PythonReport {
  readonly checks: Readonly<Record<string, ProbeLine>>
}

/** The reflected SQLAlchemy type of each column type, compiled by the PostgreSQL dialect. */
const saType: Record<PgType, string> = {
  timestamptz: 'TIMESTAMP WITH TIME ZONE',
  text: 'TEXT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  jsonb: 'JSONB',
  'text[]': 'TEXT[]',
}

export async function checkPython(server: ServerUnderTest): Promise<PythonReport> {
  const res = await runProcess(PYTHON, [clientAsset('sqlalchemy_probe.py')], {
    env: { FEDGRES_SERVER: JSON.stringify(server), PYTHONDONTWRITEBYTECODE: '1' },
    timeoutMs: 60_000,
  })
  const context = `python probe\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`
  assert.equal(res.code, 0, `sqlalchemy_probe.py exited ${res.code}\n${context}`)
  const checks: Record<string, ProbeLine> = {}
  for (const line of res.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const parsed = JSON.parse(line) as ProbeLine
    checks[parsed.check] = parsed
  }
  const get = (name: string) => {
    const c = checks[name]
    assert.ok(c, `python check ${name} did not run\n${context}`)
    assert.equal(c.ok, true, `python ${name} failed: ${c.error}\n${context}`)
    return c
  }

  const basics = get('psycopg2')
  assert.deepEqual(basics.row, ["O'Reilly", 42, ['a', "b'c", null]], 'psycopg2 bound parameters (quote, int, array with NULL) round-trip')
  assert.equal(basics.ssl, server.tls, 'psycopg2 ssl_in_use')
  assert.ok(Number(basics.server_version) >= 120000, `psycopg2 server_version ${basics.server_version}`)

  const cursor = get('serverSideCursor')
  assert.deepEqual(
    [cursor.rows, cursor.sum, cursor.first, cursor.last],
    [1000, 500500, [1, 2, 3], 1000],
    `named cursor over generate_series(1,1000)\n${context}`,
  )

  const refl = get('reflection')
  for (const t of ['alerts', 'logs']) assert.ok((refl.tables as string[]).includes(t), `get_table_names() lacks ${t}\n${context}`)
  assert.ok((refl.schemas as string[]).includes('fedgres'), `get_schema_names() lacks fedgres`)
  for (const t of ['edges', 'sources']) assert.ok((refl.fedgres_tables as string[]).includes(t), `fedgres.${t} not reflected\n${context}`)
  assert.deepEqual(
    refl.columns,
    alertColumns.map((c) => [c.name, saType[c.type], !c.notNull]),
    `get_columns('alerts'): name, type, nullable\n${context}`,
  )
  assert.deepEqual(refl.pk, [], 'alerts has no primary key')

  const auto = get('autoload')
  assert.deepEqual(auto.columns, alertColumns.map((c) => c.name), 'Table(autoload_with=engine) columns')
  assert.equal(auto.rows, 0, 'select over the autoloaded table')
  assert.deepEqual(auto.quoted, ["O'Reilly", "O'Reilly!"], 'text() bound parameter with a quote')
  return { checks }
}
