/**
 * Alert rules on a live edge: events from a KubeArmor-protocol source fire an event rule (rate
 * limited to 3 per hour) and a rate rule. The alerts reach a local RFC 5424 syslog receiver with
 * the expected fields; a webhook receiver that is down at first gets them once it is up, after
 * an agent restart too, and exactly once; and `fedgres.fired_alerts` lists them through the
 * gateway.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { parseRfc5424, startHttpReceiver, startSyslogReceiver, type HttpReceiver, type SyslogReceiver } from '../helpers/alert-receivers.js'
import { startEdge, type RunningEdge } from '../../edge-agent/services.js'
import { KubeArmorEventSource } from '../../event-source/server.js'
import { edgeConfig } from '../helpers/edge-fixtures.js'
import { freePort } from '../helpers/free-port.js'
import { startTestGateway, type GatewayFixture } from '../helpers/gateway-fixture.js'
import { tempDir } from '../helpers/temp-dir.js'
import { sleep, waitFor } from '../helpers/wait.js'

const EVENTS = 2000
const log = rootLogger('test', process.env.LOG_LEVEL ?? 'error')

describe('alert rules on a live edge', { timeout: 180_000 }, () => {
  const dir = tempDir('fedgres-alerts-')
  let source: KubeArmorEventSource
  let syslog: SyslogReceiver
  let hookPort: number
  let hook: HttpReceiver | undefined
  let edge: RunningEdge
  let gateway: GatewayFixture | undefined
  const cfg = () =>
    edgeConfig(join(dir.path, 'edge'), [source.address], {
      edge_id: 'edge-al',
      serve: { host: '127.0.0.1', port: 0, users: [{ name: 'fedgres_gateway', scram: makeScramSecret('edge-pw') }] },
      alerts: {
        sinks: {
          hook: { type: 'webhook', url: `http://127.0.0.1:${hookPort}/hook` },
          siem: { type: 'syslog', host: '127.0.0.1', port: syslog.port },
        },
        rules: [
          { name: 'shell-exec', when: { event: { operation: 'Process', process_name: { regex: '/(ba|da|z)?sh$' } } }, severity: 'high', sinks: ['hook', 'siem'], rate_limit: { max: 3, per: '1h' } },
          { name: 'network-burst', when: { rate: { event: { operation: 'Network' }, count: 20, window: '10m' } }, severity: 'warning', sinks: ['siem'] },
        ],
        delivery: { backoff_base: '200ms', backoff_cap: '1s' },
      },
    })
  const stored = async () => {
    const [a, l] = await Promise.all(['alerts', 'logs'].map((t) => edge.agent.store.query(`SELECT count(*) AS n FROM ${t}`)))
    return Number((a as { n: string }[])[0]!.n) + Number((l as { n: string }[])[0]!.n)
  }

  before(async () => {
    source = new KubeArmorEventSource({ hosts: ['node-al'], rate: 0, port: 0, limit: EVENTS, seed: 21 })
    await source.start()
    syslog = await startSyslogReceiver()
    hookPort = await freePort() // nothing listens there yet
    edge = await startEdge(cfg(), log)
    await waitFor('subscribed', () => source.subscribers('logs') >= 1)
    source.setRate(2000)
    await waitFor('events stored', async () => (await stored()) >= EVENTS, 60_000, 200)
  })
  after(async () => {
    await gateway?.stop()
    await edge?.stop()
    await hook?.close()
    await syslog?.close()
    await source?.stop()
    dir.dispose()
  })

  test('the rules fire as written: 3 shell alerts (rate limited), one network burst, in RFC 5424 syslog', async () => {
    const shells = Number(((await edge.agent.store.query(`SELECT count(*) AS n FROM logs WHERE operation = 'Process' AND process_name ~ '/(ba|da|z)?sh$'`)) as { n: string }[])[0]!.n)
      + Number(((await edge.agent.store.query(`SELECT count(*) AS n FROM alerts WHERE operation = 'Process' AND process_name ~ '/(ba|da|z)?sh$'`)) as { n: string }[])[0]!.n)
    assert.ok(shells > 3, `the source sent ${shells} matching events, more than the limit`)
    await waitFor('syslog frames', () => syslog.frames.length >= 4, 10_000)
    await sleep(500)
    const msgs = syslog.frames.map(parseRfc5424)
    const byRule = (r: string) => msgs.filter((m) => m.msgId === r)
    assert.equal(byRule('shell-exec').length, 3, 'rate_limit max 3 per hour holds')
    assert.equal(byRule('network-burst').length, 1, 'a burst over 10 minutes fires once')
    const m = byRule('shell-exec')[0]!
    assert.equal(m.version, '1')
    assert.equal(m.appName, 'fedgres-edge')
    assert.equal(m.pri, 13 * 8 + 3, 'facility log audit (13), severity high → error (3)')
    assert.match(m.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const sd = Object.values(m.sd)[0]!
    assert.equal(sd.rule, 'shell-exec')
    assert.equal(sd.edge, 'edge-al')
    assert.match(m.msg, /"process_name":"[^"]*sh"/)
    assert.match(m.msg, /"host_name":"node-al"/)
  })

  test('a webhook that was down gets the alerts once it is up, after a restart too, and exactly once', async () => {
    await sleep(500) // a few failed attempts against the closed port
    await edge.stop()
    hook = await startHttpReceiver(hookPort)
    edge = await startEdge(cfg(), log)
    await waitFor('webhook deliveries', () => hook!.requests.length >= 3, 15_000)
    await sleep(1000)
    assert.equal(hook.requests.length, 3)
    const ids = hook.requests.map((r) => (r.body as { id: string }).id)
    assert.equal(new Set(ids).size, 3, 'no alert twice')
    const body = hook.requests[0]!.body as Record<string, unknown>
    assert.equal(body.rule, 'shell-exec')
    assert.equal(body.edgeId, 'edge-al')
    assert.equal(body.severity, 'high')
    assert.equal(body.kind, 'event')
    assert.match(String((body.details as Record<string, unknown>).process_name), /sh$/)
  })

  test('fired alerts are a table through the gateway', async () => {
    gateway = await startTestGateway({
      discovery: { kind: 'static', edges: [{ edge_id: 'edge-al', address: `127.0.0.1:${edge.servePort}` }], synopsis_poll: 200 },
      edge_credentials: { user: 'fedgres_gateway', password: 'edge-pw' },
    })
    const c = new pg.Client({ host: '127.0.0.1', port: gateway.port, user: gateway.user, password: gateway.password, database: 'fedgres' })
    await c.connect()
    try {
      await waitFor('edge passing', () => gateway!.gateway.discovery!.current().edges.every((e) => e.status === 'passing'), 10_000)
      const r = await c.query(`SELECT edge_id, rule, kind, severity, count(*)::int AS n, bool_and(details ? 'host_name' OR kind = 'rate') AS detailed
                                 FROM fedgres.fired_alerts GROUP BY 1, 2, 3, 4 ORDER BY rule`)
      assert.deepEqual(r.rows, [
        { edge_id: 'edge-al', rule: 'network-burst', kind: 'rate', severity: 'warning', n: 1, detailed: true },
        { edge_id: 'edge-al', rule: 'shell-exec', kind: 'event', severity: 'high', n: 3, detailed: true },
      ])
      const cols = await c.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'fedgres' AND table_name = 'fired_alerts' ORDER BY ordinal_position`)
      assert.deepEqual(cols.rows.map((x) => `${x.column_name} ${x.data_type}`), [
        'edge_id text', 'alert_id text', 'rule text', 'kind text', 'severity text', 'fired_at timestamp with time zone', 'summary text', 'details jsonb', 'sinks ARRAY',
      ])
    } finally {
      await c.end()
    }
  })
})
