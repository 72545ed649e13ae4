/**
 * deploy/consul: values.yaml uses only keys of the hashicorp/consul chart version it targets, with
 * the types of the chart's defaults (the chart ships no values.schema.json, so the key list was
 * taken once from its values.yaml into fixtures/); it sets what the manifests rely on; and the ACL
 * policies grant what the edge and gateway code read and write.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { repoRoot } from '../../common/paths.js'
import { synopsisKey } from '../../schema/synopsis.js'
import { deployDir, readDocuments } from './deploy-files.js'
import { workloadsOf } from './pod-env.js'

const CHART_VERSION = '1.9.11'

/** path → kind of the chart's default (map, open, boolean, number, string, list). */
function chartPaths(): Map<string, string> {
  const text = readFileSync(join(repoRoot(), 'test', 'deploy', 'fixtures', `consul-chart-${CHART_VERSION}-value-paths.tsv`), 'utf8')
  const rows = text.split('\n').filter((l) => l && !l.startsWith('#'))
  return new Map(rows.map((l) => l.split('\t') as [string, string]))
}

const kindOf = (v: unknown) => (Array.isArray(v) ? 'list' : v !== null && typeof v === 'object' ? 'map' : typeof v)

/** What helm would silently ignore or the chart's templates misread: unknown keys, wrong types. */
function chartProblems(values: Record<string, unknown>, chart: Map<string, string>): string[] {
  const problems: string[] = []
  const walk = (v: unknown, path: string[]) => {
    if (kindOf(v) === 'map' && Object.keys(v as object).length > 0) {
      // Below a free-form default (null or {}), the chart takes any keys.
      if (path.length > 0 && chart.get(path.join('.')) === 'open') return
      for (const [k, c] of Object.entries(v as object)) walk(c, [...path, k])
      return
    }
    const p = path.join('.')
    const want = chart.get(p)
    if (want === undefined) problems.push(`${p}: not a key of chart ${CHART_VERSION}`)
    else if (want !== 'open' && want !== kindOf(v)) problems.push(`${p}: ${kindOf(v)}, the chart's default is ${want}`)
  }
  walk(values, [])
  return problems
}

/** The parts of values.yaml that the manifests depend on (all read as optional: absent fails the test). */
interface Values {
  global?: { tls?: { enabled?: boolean; httpsOnly?: boolean; enableAutoEncrypt?: boolean }; acls?: { manageSystemACLs?: boolean } }
  client?: { enabled?: boolean }
  connectInject?: { enabled?: boolean }
}

const values = () => YAML.parse(readFileSync(deployDir('consul', 'values.yaml'), 'utf8')) as Values & Record<string, unknown>

test(`values.yaml uses only keys of the consul chart ${CHART_VERSION}, typed as its defaults`, () => {
  const chart = chartPaths()
  assert.ok(chart.size > 600, 'the chart key list is loaded')
  assert.deepEqual(chartProblems(values(), chart), [])
  assert.match(readFileSync(deployDir('consul', 'values.yaml'), 'utf8'), new RegExp(`--version ${CHART_VERSION.replaceAll('.', '\\.')}`))
})

test('the key check refuses a misspelt key, a wrongly typed value and a key under a scalar', () => {
  const chart = chartPaths()
  assert.deepEqual(chartProblems({ client: { enable: true } }, chart), [`client.enable: not a key of chart ${CHART_VERSION}`])
  assert.deepEqual(chartProblems({ server: { replicas: '3' } }, chart), [`server.replicas: string, the chart's default is number`])
  assert.deepEqual(chartProblems({ client: { tolerations: [{ operator: 'Exists' }] } }, chart), [`client.tolerations: list, the chart's default is string`])
  assert.deepEqual(chartProblems({ global: { tls: { enabled: { yes: true } } } }, chart), [`global.tls.enabled.yes: not a key of chart ${CHART_VERSION}`])
  assert.deepEqual(chartProblems({ server: { nodeSelector: 'disk: ssd' }, ui: { enabled: true } }, chart), [])
})

test('Consul runs what the manifests expect: client agents, HTTPS only on 8501, ACLs, the chart CA', () => {
  const v = values()
  assert.equal(v.client?.enabled, true, 'edges register through a local client agent')
  assert.equal(v.global?.tls?.enabled, true)
  assert.equal(v.global?.tls?.httpsOnly, true)
  assert.equal(v.global?.tls?.enableAutoEncrypt, false, 'pods trust consul-ca-cert, which signs client agent certs only without auto-encrypt')
  assert.equal(v.global?.acls?.manageSystemACLs, true)
  assert.equal(v.connectInject?.enabled, false)
  const objects = ['edge-daemonset.yaml', 'edge-relay.yaml', 'gateway.yaml'].flatMap((f) => readDocuments(deployDir('kubernetes', f)))
  const addresses = workloadsOf(objects).flatMap((w) => w.pod.containers.flatMap((c) => (c.env ?? []).filter((e) => /CONSUL__ADDRESS$|DISCOVERY__ADDRESS$/.test(e.name))))
  assert.equal(addresses.length, 3)
  for (const a of addresses) assert.equal(a.value, 'https://$(HOST_IP):8501', a.name)
})

/** `resource "name" { policy = "read|write" }` blocks of an ACL policy file. */
function aclRules(file: string): { resource: string; name: string; policy: string }[] {
  const text = readFileSync(deployDir('consul', file), 'utf8').replace(/#.*$/gm, '')
  return [...text.matchAll(/(\w+)\s+"([^"]*)"\s*\{\s*policy\s*=\s*"(\w+)"\s*\}/g)].map((m) => ({ resource: m[1]!, name: m[2]!, policy: m[3]! }))
}

test('the ACL policies grant the edges writes and the gateways reads of what the code uses', () => {
  const edgeCm = readDocuments(deployDir('kubernetes', 'edge-daemonset.yaml')).find((d) => d.object.kind === 'ConfigMap')!.object as { data: Record<string, string> }
  const serviceName = (YAML.parse(edgeCm.data['edge.yaml']!) as { consul: { service_name: string } }).consul.service_name
  const key = synopsisKey('edge-1')
  const grants = (file: string, resource: string, policy: string, covers: (name: string) => boolean) =>
    aclRules(file).some((r) => r.resource === resource && r.policy === policy && covers(r.name))
  assert.ok(grants('fedgres-edge-policy.hcl', 'service', 'write', (n) => n === serviceName), 'edge: service write')
  assert.ok(grants('fedgres-edge-policy.hcl', 'key_prefix', 'write', (n) => key.startsWith(n)), `edge: key write on ${key}`)
  assert.ok(grants('fedgres-gateway-policy.hcl', 'service', 'read', (n) => n === serviceName), 'gateway: service read')
  assert.ok(grants('fedgres-gateway-policy.hcl', 'key_prefix', 'read', (n) => key.startsWith(n)), `gateway: key read on ${key}`)
  assert.ok(grants('fedgres-gateway-policy.hcl', 'node_prefix', 'read', (n) => n === ''), 'gateway: node read (health results are filtered by it)')
  assert.ok(!aclRules('fedgres-gateway-policy.hcl').some((r) => r.policy === 'write'), 'the gateway writes nothing')
})
