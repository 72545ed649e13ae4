import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule, parseSync } from 'libpg-query'
import { CopyWriter, copyOptions } from './copy-format.js'
import type { AstNode } from './sql-parse.js'

before(() => loadModule())

const optionsOf = (sql: string) => copyOptions(((parseSync(sql) as { stmts: { stmt: { CopyStmt: AstNode } }[] }).stmts[0]!.stmt.CopyStmt.options as AstNode[] | undefined))

test('text format escapes backslash, the delimiter and control characters; NULL is \\N', () => {
  const w = new CopyWriter(optionsOf('COPY t TO STDOUT'), ['a', 'b'])
  assert.equal(w.line(['x\ty\\z\n', null]), 'x\\ty\\\\z\\n\t\\N\n')
  assert.equal(new CopyWriter(optionsOf("COPY t TO STDOUT (DELIMITER '|')"), ['a', 'b']).line(['a|b', 'c\td']), 'a\\|b|c\\td\n')
})

test('CSV quotes what needs it, doubles the quote, writes NULL unquoted and a header', () => {
  const w = new CopyWriter(optionsOf('COPY t TO STDOUT CSV HEADER'), ['name', 'note'])
  assert.equal(w.header(), 'name,note\n')
  assert.equal(w.line(['a,b', 'say "hi"']), '"a,b","say ""hi"""\n')
  assert.equal(w.line([null, '']), ',""\n') // the empty string is quoted: unquoted empty is NULL
  assert.equal(new CopyWriter(optionsOf('COPY t TO STDOUT (FORMAT csv)'), ['x']).line(['\\.']), '"\\."\n')
  const forced = new CopyWriter(optionsOf('COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (b), ESCAPE \'\\\')'), ['a', 'b'])
  assert.equal(forced.line(['1', 'q"r']), '1,"q\\"r"\n')
})

test('options PostgreSQL refuses are refused with its codes', () => {
  assert.throws(() => optionsOf("COPY t TO STDOUT (FORMAT xml)"), { code: '22023' })
  assert.throws(() => optionsOf('COPY t TO STDOUT (FORMAT binary, HEADER)'), { code: '42601' })
  assert.throws(() => optionsOf("COPY t TO STDOUT (FORMAT csv, FORMAT text)"), { code: '42601' })
  assert.throws(() => new CopyWriter(optionsOf('COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (nope))'), ['a']), { code: '42703' })
})
