/**
 * deploy/open-horizon: the service definition and deployment policy, expanded as `hzn` expands
 * them, are valid by schemas written from the anax docs (open-horizon-schemas.ts), which refuse
 * broken files; the policy configures only inputs the service declares, with their types; and the
 * container the service starts runs `fedgres edge` on the node's /etc/fedgres/edge.yaml, which
 * (as the example in deploy/systemd) loads through the real loader with the inputs' environment.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import { loadEdgeConfig } from '../../edge-agent/config.js'
import { deployDir, packageVersion } from './deploy-files.js'
import { deploymentPolicySchema, expandEnvLikeGo, serviceDefinitionSchema } from './open-horizon-schemas.js'

/** The variables the files use, as deploy/README.md tells the publisher to set them. */
const PUBLISH_ENV = { HZN_ORG_ID: 'myorg', ARCH: 'amd64', FEDGRES_IMAGE: 'registry.example.com/fedgres:0.1.0' }

interface ServiceDefinition {
  url: string
  org: string
  version: string
  userInput: { name: string; type: string; defaultValue?: string }[]
  deployment: { services: Record<string, { image: string; network?: string; command?: string[]; binds?: string[] }> }
}
interface DeploymentPolicy {
  service: { name: string; org: string; serviceVersions: { version: string }[] }
  constraints: string[]
  userInput: { serviceUrl: string; serviceOrgid: string; inputs: { name: string; value: unknown }[] }[]
}

function readExpanded<T>(file: string): T {
  const text = readFileSync(deployDir('open-horizon', file), 'utf8')
  const used = [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)
  assert.deepEqual([...new Set(used)].filter((v) => !Object.hasOwn(PUBLISH_ENV, v)), [], `${file}: every $VARIABLE is one the README names`)
  assert.doesNotMatch(text, /\$(?![{A-Za-z_])/, `${file}: a $ that hzn would expand into something else`)
  return JSON.parse(expandEnvLikeGo(text, PUBLISH_ENV)) as T
}

/** Ajv's strict mode (unknown keywords are errors), less strictRequired, which refuses `anyOf: [{ required }]`, and with union types (a property's value). */
function compile(schema: object): ValidateFunction {
  return new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema)
}

const errorsOf = (v: ValidateFunction, data: unknown) => (v(data) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`))

test('the service definition is valid by the documented structure', () => {
  const def = readExpanded<ServiceDefinition>('service.definition.json')
  assert.deepEqual(errorsOf(compile(serviceDefinitionSchema), def), [])
  assert.equal(def.version, packageVersion())
})

test('the deployment policy is valid by the documented structure and deploys that service', () => {
  const def = readExpanded<ServiceDefinition>('service.definition.json')
  const policy = readExpanded<DeploymentPolicy>('deployment.policy.json')
  assert.deepEqual(errorsOf(compile(deploymentPolicySchema), policy), [])
  assert.equal(policy.service.name, def.url)
  assert.equal(policy.service.org, def.org)
  assert.ok(policy.service.serviceVersions.some((v) => v.version === def.version))
})

test('the schemas refuse broken files', () => {
  const service = compile(serviceDefinitionSchema)
  const good = readExpanded<Record<string, unknown>>('service.definition.json')
  assert.deepEqual(errorsOf(service, good), [])
  const broken = (patch: Record<string, unknown>) => errorsOf(service, { ...good, ...patch })
  assert.ok(broken({ url: undefined }).some((e) => e.includes("'url'")))
  assert.ok(broken({ sharable: 'exclusive-ish' }).length > 0)
  assert.ok(broken({ arch: 'x86_64' }).length > 0, 'GOARCH says amd64')
  assert.ok(broken({ version: '0.1.0-beta' }).length > 0)
  assert.ok(broken({ userInput: [{ name: 'X', type: 'int', defaultValue: 9464 }] }).length > 0, 'defaultValue must be a string')
  assert.ok(broken({ userInputs: [] }).length > 0, 'the JSON key is userInput')
  assert.ok(broken({ deployment: { services: { e: { image: 'x', binds: '/a:/b' } } } }).length > 0)
  assert.ok(broken({ deployment: undefined }).length > 0, 'neither deployment nor clusterDeployment')

  const policy = compile(deploymentPolicySchema)
  const goodPolicy = readExpanded<{ service: Record<string, unknown> }>('deployment.policy.json')
  const brokenPolicy = (service: Record<string, unknown>) => errorsOf(policy, { ...goodPolicy, service: { ...goodPolicy.service, ...service } })
  assert.ok(brokenPolicy({ serviceVersions: [] }).length > 0, 'at least one version')
  assert.ok(brokenPolicy({ org: '' }).length > 0)
  assert.ok(brokenPolicy({ serviceVersions: [{ version: '0.1.0', priority: { priority_value: 1 } }] }).length > 0, 'retries go with priority_value')
  assert.ok(errorsOf(policy, { ...goodPolicy, services: [] }).length > 0, 'the JSON key is service')
})

test('hzn would mangle a literal $, so no secret goes in these files', () => {
  // Why SCRAM secrets and tokens stay in the node's /etc/fedgres/edge.yaml: os.ExpandEnv reads `$4`.
  assert.equal(expandEnvLikeGo('SCRAM-SHA-256$4096:c2FsdA==$a:b', {}), 'SCRAM-SHA-256096:c2FsdA==:b')
  assert.equal(expandEnvLikeGo('${HZN_ORG_ID}/x $ARCH', PUBLISH_ENV), 'myorg/x amd64')
})

test('the policy sets only inputs the service declares, with values of the declared type', () => {
  const def = readExpanded<ServiceDefinition>('service.definition.json')
  const policy = readExpanded<DeploymentPolicy>('deployment.policy.json')
  const declared = new Map(def.userInput.map((u) => [u.name, u.type]))
  const ofType: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    int: (v) => Number.isInteger(v),
    float: (v) => typeof v === 'number',
    boolean: (v) => typeof v === 'boolean',
    'list of strings': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  }
  for (const ui of policy.userInput) {
    assert.equal(ui.serviceUrl, def.url)
    for (const input of ui.inputs) {
      const type = declared.get(input.name)
      assert.ok(type, `the service declares no input ${input.name}`)
      assert.ok(ofType[type]!(input.value), `${input.name}: ${JSON.stringify(input.value)} is not ${type}`)
    }
  }
  // Inputs without a default would have to be set on every node: all have one.
  for (const u of def.userInput) assert.equal(typeof u.defaultValue, 'string', u.name)
})

test('the container runs `fedgres edge` on the node config, which loads with the inputs as environment', () => {
  const def = readExpanded<ServiceDefinition>('service.definition.json')
  const policy = readExpanded<DeploymentPolicy>('deployment.policy.json')
  const containers = Object.values(def.deployment.services)
  assert.equal(containers.length, 1)
  const c = containers[0]!
  assert.equal(c.image, PUBLISH_ENV.FEDGRES_IMAGE)
  // `command` replaces the image's CMD after ENTRYPOINT ["node", "/opt/fedgres/bin/fedgres.js"].
  assert.deepEqual(c.command, ['edge', '--config', '/etc/fedgres/edge.yaml'])
  const binds = (c.binds ?? []).map((b) => b.split(':'))
  const boundAt = (path: string) => binds.find(([, inside]) => path.startsWith(`${inside}/`))

  // The node's /etc/fedgres/edge.yaml is the systemd example's file, at the same path.
  const configBind = boundAt('/etc/fedgres/edge.yaml')
  assert.deepEqual(configBind, ['/etc/fedgres', '/etc/fedgres', 'ro'])
  const env: Record<string, string> = Object.fromEntries(def.userInput.map((u) => [u.name, u.defaultValue ?? '']))
  for (const ui of policy.userInput) for (const i of ui.inputs) env[i.name] = String(i.value)
  const cfg = loadEdgeConfig({ file: deployDir('systemd', 'edge.yaml'), env })
  assert.equal(cfg.metrics?.port, Number(env.FEDGRES_EDGE_METRICS__PORT))

  // The store lives in a named volume (created owned by the image's user), not on /etc.
  const dataBind = boundAt(cfg.data_dir)
  assert.ok(dataBind && !dataBind[0]!.startsWith('/'), `data_dir ${cfg.data_dir} is in a named volume`)
  // KubeArmor and the Consul agent are on the node's localhost: host network, which Open Horizon
  // allows only on nodes with openhorizon.allowPrivileged.
  assert.ok(cfg.sources.every((s) => s.address.startsWith('localhost:')))
  assert.equal(c.network, 'host')
  assert.ok(policy.constraints.some((k) => /openhorizon\.allowPrivileged\s*==\s*true/.test(k)))
})
