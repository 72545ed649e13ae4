/**
 * deploy/systemd: each unit runs `fedgres edge` / `fedgres gateway` on an example config that sits
 * beside it, which loads through the real loader; the directories the config writes are the ones
 * the unit makes writable under ProtectSystem=strict; both services fit on one host.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { loadEdgeConfig } from '../../edge-agent/config.js'
import { loadGatewayConfig } from '../../gateway/config.js'
import { deployDir } from './deploy-files.js'

type Unit = Record<string, Record<string, string[]>>

/** A systemd unit file as section → key → values (keys may repeat); comments and blanks dropped. */
function parseUnit(text: string): Unit {
  const unit: Unit = {}
  let section: Record<string, string[]> | undefined
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const head = /^\[([^\]]+)\]$/.exec(line)
    if (head) {
      section = unit[head[1]!] ??= {}
      continue
    }
    const eq = line.indexOf('=')
    if (!section || eq <= 0) throw new Error(`line ${i + 1} is neither a section nor a key=value: ${raw}`)
    ;(section[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim())
  }
  return unit
}

const unit = (name: string) => parseUnit(readFileSync(deployDir('systemd', name), 'utf8'))
const one = (u: Unit, section: string, key: string) => {
  const v = u[section]?.[key]
  assert.equal(v?.length, 1, `[${section}] ${key} set once`)
  return v[0]!
}

/** The role and config path of `ExecStart=/usr/bin/node …/bin/fedgres.js <role> --config <path>`. */
function execStart(u: Unit): { role: string; config: string } {
  const m = /^\/usr\/bin\/node \/opt\/fedgres\/bin\/fedgres\.js (\w+) --config (\S+)$/.exec(one(u, 'Service', 'ExecStart'))
  assert.ok(m, `ExecStart runs fedgres.js with --config: ${one(u, 'Service', 'ExecStart')}`)
  return { role: m[1]!, config: m[2]! }
}

test('the unit parser reads sections and keys, and refuses a line outside any section', () => {
  assert.deepEqual(parseUnit('# c\n[Unit]\nAfter=a b\nAfter=c\n\n[Service]\nExecStart=/x --y=z\n'), { Unit: { After: ['a b', 'c'] }, Service: { ExecStart: ['/x --y=z'] } })
  assert.throws(() => parseUnit('ExecStart=/x\n'), /line 1/)
})

test('fedgres-edge.service runs `fedgres edge` on the example edge.yaml, after KubeArmor', () => {
  const u = unit('fedgres-edge.service')
  const { role, config } = execStart(u)
  assert.equal(role, 'edge')
  assert.equal(config, '/etc/fedgres/edge.yaml')
  const cfg = loadEdgeConfig({ file: deployDir('systemd', basename(config)), env: {} })
  assert.match(u.Unit!.After!.join(' '), /\bkubearmor\.service\b/)
  assert.equal(u.Unit!.Requires, undefined, 'a KubeArmor restart must not stop the edge')
  assert.deepEqual(cfg.sources.map((s) => s.address), ['localhost:32767'])
  // ProtectSystem=strict leaves only StateDirectory= writable.
  assert.equal(cfg.data_dir, `/var/lib/${one(u, 'Service', 'StateDirectory')}`)
  assert.ok(cfg.serve.users.length > 0, 'gateways can log in')
})

test('fedgres-gateway.service runs `fedgres gateway` on the example gateway.yaml', () => {
  const u = unit('fedgres-gateway.service')
  const { role, config } = execStart(u)
  assert.equal(role, 'gateway')
  assert.equal(config, '/etc/fedgres/gateway.yaml')
  const cfg = loadGatewayConfig({ file: deployDir('systemd', basename(config)), env: {} })
  assert.ok(cfg.catalog.cache_dir?.startsWith(`/var/cache/${one(u, 'Service', 'CacheDirectory')}/`), 'the catalog cache is in CacheDirectory=')
  assert.equal(cfg.discovery.kind, 'consul')
  assert.ok(Number(one(u, 'Service', 'LimitNOFILE')) >= 65536, 'room for one socket per edge in a fan-out over thousands')
})

test('edge and gateway on one host use different ports, and the gateway logs in as an edge user', () => {
  const edge = loadEdgeConfig({ file: deployDir('systemd', 'edge.yaml'), env: {} })
  const gw = loadGatewayConfig({ file: deployDir('systemd', 'gateway.yaml'), env: {} })
  const ports = [edge.serve.port, edge.metrics?.port, gw.listen.port, gw.metrics?.port]
  assert.equal(new Set(ports).size, ports.length, `ports ${ports.join(', ')}`)
  assert.ok(edge.serve.users.some((u) => u.name === gw.edge_credentials?.user))
})

test('both units run as the fedgres system user, hardened', () => {
  const sysusers = readFileSync(deployDir('systemd', 'fedgres.sysusers.conf'), 'utf8')
  assert.match(sysusers, /^u fedgres 10001:10001 /m, 'the same uid as the container image')
  for (const name of ['fedgres-edge.service', 'fedgres-gateway.service']) {
    const u = unit(name)
    assert.equal(one(u, 'Service', 'User'), 'fedgres', name)
    for (const [key, value] of Object.entries({ ProtectSystem: 'strict', NoNewPrivileges: 'yes', PrivateTmp: 'yes', ProtectHome: 'yes', CapabilityBoundingSet: '', RestartPreventExitStatus: '78' })) {
      assert.equal(one(u, 'Service', key), value, `${name} ${key}`)
    }
    assert.equal(u.Service!.MemoryDenyWriteExecute, undefined, `${name}: V8's JIT needs W+X memory`)
    assert.deepEqual(u.Install?.WantedBy, ['multi-user.target'], name)
  }
})
