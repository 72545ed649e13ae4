import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { loadModule, parseSync } from 'libpg-query'
import { CopyWriter } from './copy-format.js'
import { copyOptions } from './copy-options.js'
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

test('options PostgreSQL refuses are refused with its codes and messages', () => {
  // Each as native PostgreSQL 18.4 answers it (checked side by side): a NULL string holding the
  // delimiter or the quote, or running across lines, would write a file no reader can split.
  const refused: [string, string, string][] = [
    ['(FORMAT xml)', '22023', 'COPY format "xml" not recognized'],
    ['(FORMAT binary, HEADER)', '0A000', 'cannot specify HEADER in BINARY mode'],
    ['(FORMAT binary, DELIMITER \',\')', '42601', 'cannot specify DELIMITER in BINARY mode'],
    ['(FORMAT csv, FORMAT text)', '42601', 'conflicting or redundant options'],
    ["(FORMAT csv, NULL 'N,A')", '22023', 'COPY delimiter character must not appear in the NULL specification'],
    ["(FORMAT text, DELIMITER ' ', NULL 'a b')", '22023', 'COPY delimiter character must not appear in the NULL specification'],
    [`(FORMAT csv, NULL 'say"hi')`, '22023', 'CSV quote character must not appear in the NULL specification'],
    ["(NULL E'a\\nb')", '22023', 'COPY null representation cannot use newline or carriage return'],
    ["(FORMAT csv, DELIMITER ',', QUOTE ',')", '22023', 'COPY delimiter and quote must be different'],
    ["(DELIMITER 'é')", '0A000', 'COPY delimiter must be a single one-byte character'],
    ["(FORMAT csv, QUOTE '§')", '0A000', 'COPY quote must be a single one-byte character'],
    ["(DELIMITER 'a')", '22023', 'COPY delimiter cannot be "a"'],
    ["(QUOTE '\"')", '0A000', 'COPY QUOTE requires CSV mode'],
    ['(bogus 1)', '42601', 'option "bogus" not recognized'],
    ['(FORMAT csv, FORCE_NULL (a))', '22023', 'COPY FORCE_NULL cannot be used with COPY TO'],
    ['(FORCE_NOT_NULL *)', '0A000', 'COPY FORCE_NOT_NULL requires CSV mode'],
    ['(ON_ERROR ignore)', '22023', 'COPY ON_ERROR cannot be used with COPY TO'],
    ['(FREEZE)', '22023', 'COPY FREEZE cannot be used with COPY TO'],
    ["(DEFAULT 'x')", '0A000', 'COPY DEFAULT cannot be used with COPY TO'],
    ['(HEADER match)', '0A000', 'cannot use "match" with HEADER in COPY TO'],
    ['(HEADER 2)', '42601', 'header requires a Boolean value or "match"'],
    ["(LOG_VERBOSITY 'loud')", '22023', 'COPY LOG_VERBOSITY "loud" not recognized'],
    ["(ENCODING 'nosuch')", '22023', 'argument to option "encoding" must be a valid encoding name'],
    ['(FORMAT csv, FORCE_QUOTE a)', '22023', 'argument to option "force_quote" must be a list of column names'],
  ]
  for (const [options, code, message] of refused) assert.throws(() => optionsOf(`COPY t TO STDOUT ${options}`), { code, message }, options)
  // Accepted as PostgreSQL accepts them: an upper-case delimiter, FREEZE false, a log verbosity.
  for (const options of ["(DELIMITER 'A')", '(FREEZE false)', '(LOG_VERBOSITY verbose)', '(HEADER 0)', "(ENCODING 'UTF-8')"]) assert.doesNotThrow(() => optionsOf(`COPY t TO STDOUT ${options}`), options)
  assert.throws(() => new CopyWriter(optionsOf('COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (nope))'), ['a']), { code: '42703' })
  // Output columns sharing a name: the name is the first of them, and may be listed once (PostgreSQL's CopyGetAttnums).
  const twin = new CopyWriter(optionsOf('COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (h))'), ['h', 'h'])
  assert.equal(twin.line(['node-3a', 'node-3a']), '"node-3a",node-3a\n')
  assert.throws(() => new CopyWriter(optionsOf('COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (h, h))'), ['h', 'h']), { code: '42701', message: 'column "h" specified more than once' })
})
