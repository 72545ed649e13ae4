import { test } from 'node:test'
import assert from 'node:assert/strict'
import { begin, clientOf, newActivity, settle } from './activity.js'

test('the client address and port from a socket\'s remote address', () => {
  assert.deepEqual(clientOf('127.0.0.1:5432'), { addr: '127.0.0.1', port: 5432 })
  assert.deepEqual(clientOf('::ffff:10.1.2.3:40000'), { addr: '10.1.2.3', port: 40000 }, 'an IPv4-mapped address shows as IPv4')
  assert.deepEqual(clientOf('::1:6000'), { addr: '::1', port: 6000 })
  assert.deepEqual(clientOf('undefined:undefined'), { addr: null, port: null }, 'a socket already closed')
})

test('state, query and times follow statements and transactions', () => {
  const a = newActivity(3, 'analyst', 'fedgres', '127.0.0.1:1', 'psql')
  assert.equal(a.state, 'idle')
  assert.equal(a.xactStart, null)
  begin(a, 'BEGIN', false)
  const xact = a.xactStart
  assert.equal(a.state, 'active')
  settle(a, 'open')
  assert.equal(a.state, 'idle in transaction')
  begin(a, 'SELECT 1', true)
  assert.equal(a.xactStart, xact, 'a statement in the block keeps the block\'s start')
  assert.equal(a.query, 'SELECT 1')
  settle(a, 'failed')
  assert.equal(a.state, 'idle in transaction (aborted)')
  settle(a, 'idle')
  assert.equal(a.xactStart, null)
  assert.equal(a.query, 'SELECT 1', 'the last query stays')
})
