#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with Node's built-in runner, one file at a
// time: the end-to-end suites start servers and child processes, and the machine has 2 cores.
// Usage: npm test [-- <substring filter of test file paths>]
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { spawnSync } from 'node:child_process'

const root = new URL('..', import.meta.url).pathname
const dist = join(root, 'dist')
const filters = process.argv.slice(2)

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}

// Unit tests beside the code first, then the end-to-end suites in test/.
const files = walk(dist)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(dist, f).includes(s)))
  .sort((a, b) => Number(relative(dist, a).startsWith('test/')) - Number(relative(dist, b).startsWith('test/')) || a.localeCompare(b))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=900000', '--enable-source-maps', ...files], { stdio: 'inherit', cwd: root })
process.exit(res.status ?? 1)
