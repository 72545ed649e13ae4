#!/usr/bin/env node
// pretest: installs the Debian test clients the end-to-end suites drive, when they are missing:
// the PostgreSQL JDBC driver, psqlODBC with unixODBC's isql, psycopg2 with SQLAlchemy, and
// lib/pq (Grafana's Go driver) with Debian's Go.
// It needs root (apt-get). When everything is present it does nothing.
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

const wanted = [
  { pkg: 'libpostgresql-jdbc-java', present: () => existsSync('/usr/share/java/postgresql.jar') },
  { pkg: 'odbc-postgresql', present: () => existsSync('/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so') },
  { pkg: 'unixodbc', present: () => which('isql') },
  { pkg: 'python3-psycopg2', present: () => py('import psycopg2') },
  { pkg: 'python3-sqlalchemy', present: () => py('import sqlalchemy') },
  { pkg: 'postgresql-client', present: () => which('psql') && which('pgbench') },
  { pkg: 'default-jdk-headless', present: () => which('javac') },
  // lib/pq, the Go driver of Grafana's PostgreSQL data source, and Debian's Go to build its probe.
  { pkg: 'golang-go', present: () => which('go') },
  { pkg: 'golang-github-lib-pq-dev', present: () => existsSync('/usr/share/gocode/src/github.com/lib/pq/conn.go') },
]

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}
function py(code) {
  return spawnSync('/usr/bin/python3', ['-c', code], { stdio: 'ignore' }).status === 0
}

const missing = wanted.filter((w) => !w.present()).map((w) => w.pkg)
if (missing.length === 0) process.exit(0)
console.log(`installing test clients: ${missing.join(' ')}`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0
if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', '--no-install-recommends', ...missing])) {
  console.error(`could not install ${missing.join(' ')} with apt-get; the client end-to-end tests need them`)
  process.exit(1)
}
