/**
 * The Kubernetes workloads as they would start: each one's config file, taken from its ConfigMap,
 * loads through the real loader (loadEdgeConfig / loadGatewayConfig, strict schemas) with the
 * environment the Pod would have (example Secrets, downward-API fields, `$(VAR)` expansion); every
 * file the config names is mounted from a Secret key that exists; the data and cache dirs are
 * writable; probes hit routes the real HTTP endpoint answers; containers run locked down.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { Registry } from 'prom-client'
import type { IConfigMap, IContainer, ISecret } from 'kubernetes-models/v1'
import { startHttpEndpoint } from '../../common/http-endpoint.js'
import { loadEdgeConfig, type EdgeConfig } from '../../edge-agent/config.js'
import { loadGatewayConfig, type GatewayConfig } from '../../gateway/config.js'
import { tempDir } from '../helpers/temp-dir.js'
import { deployDir, filesUnder, readDocuments, type LoadedObject } from './deploy-files.js'
import { cliInvocation, containerEnv, FIELD_VALUES, mountHolding, secretValue, workloadsOf, type Workload } from './pod-env.js'

const objects: LoadedObject[] = filesUnder(deployDir('kubernetes'), ['.yaml', '.yml']).flatMap(readDocuments)
const ofKind = <T>(kind: string) => objects.filter((o) => o.object.kind === kind).map((o) => o.object as T)
const secrets = ofKind<ISecret>('Secret')
const configMaps = ofKind<IConfigMap>('ConfigMap')
const workloads = workloadsOf(objects)

interface Started {
  readonly w: Workload
  readonly c: IContainer
  readonly env: Record<string, string>
  readonly edge?: EdgeConfig
  readonly gateway?: GatewayConfig
}

/** Loads the workload's config the way `fedgres <role> --config <file>` does inside the Pod. */
function start(w: Workload, dir: string): Started {
  const c = w.pod.containers[0]!
  const { role, config } = cliInvocation(c)
  const held = mountHolding(w, c, config)
  assert.ok(held?.volume?.configMap, `${w.origin}: --config ${config} is not on a ConfigMap volume`)
  const cm = configMaps.find((m) => m.metadata?.name === held.volume!.configMap!.name)
  const text = cm?.data?.[relative(held.mount.mountPath, config)]
  assert.ok(text, `${w.origin}: ConfigMap ${held.volume.configMap.name} has no key for ${config}`)
  const file = join(dir, `${w.name}-${basename(config)}`)
  writeFileSync(file, text)
  const env = containerEnv(c, secrets)
  if (role === 'edge') return { w, c, env, edge: loadEdgeConfig({ file, env }) }
  if (role === 'gateway') return { w, c, env, gateway: loadGatewayConfig({ file, env }) }
  throw new Error(`${w.origin}: unknown role ${role}`)
}

/** A file the process reads must come from a Secret volume, and the Secret must have that key. */
function assertSecretFile(s: Started, path: string | undefined, what: string): void {
  if (path === undefined) return
  const held = mountHolding(s.w, s.c, path)
  const secretName = held?.volume?.secret?.secretName
  assert.ok(secretName, `${s.w.origin}: ${what} ${path} is not on a Secret volume`)
  assert.ok(secretValue(secrets, secretName, relative(held.mount.mountPath, path)) !== undefined, `${s.w.origin}: Secret ${secretName} has no key for ${path}`)
}

function assertWritableDir(s: Started, path: string, what: string): void {
  const held = mountHolding(s.w, s.c, path)
  assert.ok(held, `${s.w.origin}: ${what} ${path} is on the read-only root filesystem`)
  assert.notEqual(held.mount.readOnly, true, `${s.w.origin}: ${what} ${path} is mounted read-only`)
  assert.ok(!held.volume?.configMap && !held.volume?.secret, `${s.w.origin}: ${what} ${path} is on a ConfigMap/Secret volume`)
}

const portNamed = (c: IContainer, name: string) => c.ports?.find((p) => p.name === name)?.containerPort

test('every workload config loads through the real loader with its Pod environment', () => {
  const dir = tempDir('fedgres-deploy-')
  try {
    const started = workloads.map((w) => start(w, dir.path))
    assert.deepEqual(started.map((s) => (s.edge ? 'edge' : 'gateway')).sort(), ['edge', 'edge', 'gateway'])
    const hostIp = FIELD_VALUES['status.hostIP']!
    const edgeUsers = new Set<string>()
    for (const s of started) {
      const on = s.w.origin
      if (s.edge) {
        const cfg = s.edge
        assert.equal(cfg.consul?.address, `https://${hostIp}:8501`, `${on}: the node's Consul client agent over HTTPS`)
        assert.ok(cfg.consul?.token, `${on}: Consul token`)
        assert.ok(cfg.serve.users.length > 0, `${on}: no user may log in to the edge`)
        for (const u of cfg.serve.users) edgeUsers.add(u.name)
        assert.equal(cfg.metrics?.port, portNamed(s.c, 'metrics'), `${on}: metrics.port`)
        assert.equal(cfg.serve.port, portNamed(s.c, 'postgres'), `${on}: serve.port`)
        // On the node's network the daemon is on localhost and gateways dial the node; otherwise
        // the source is the relay Service and gateways dial the Pod.
        const local = cfg.sources.every((src) => src.address.startsWith('localhost:'))
        assert.equal(s.w.pod.hostNetwork === true, local, `${on}: hostNetwork goes with a localhost source`)
        assert.equal(cfg.serve.advertise, local ? hostIp : FIELD_VALUES['status.podIP'], `${on}: serve.advertise`)
        if (!local) assert.deepEqual(cfg.sources.map((src) => src.address), ['kubearmor.kubearmor.svc.cluster.local:32767'])
        if (s.w.kind === 'StatefulSet') assert.equal(cfg.edge_id, FIELD_VALUES['metadata.name'], `${on}: edge_id from the pod name`)
        assertSecretFile(s, cfg.serve.tls?.cert, 'serve.tls.cert')
        assertSecretFile(s, cfg.serve.tls?.key, 'serve.tls.key')
        assertSecretFile(s, cfg.consul?.ca, 'consul.ca')
        for (const src of cfg.sources) for (const f of [src.tls?.ca, src.tls?.cert, src.tls?.key]) assertSecretFile(s, f, 'sources[].tls')
        assertWritableDir(s, cfg.data_dir, 'data_dir')
      } else {
        const cfg = s.gateway!
        assert.equal(cfg.discovery.kind, 'consul', `${on}: discovery`)
        if (cfg.discovery.kind === 'consul') {
          assert.equal(cfg.discovery.address, `https://${hostIp}:8501`, `${on}: discovery.address`)
          assert.ok(cfg.discovery.token, `${on}: discovery.token`)
          assertSecretFile(s, cfg.discovery.ca, 'discovery.ca')
        }
        assert.ok(cfg.users.length > 0 && cfg.edge_credentials?.password, `${on}: users and edge_credentials from the Secrets`)
        assert.equal(cfg.metrics?.port, portNamed(s.c, 'metrics'), `${on}: metrics.port`)
        assert.equal(cfg.listen.port, portNamed(s.c, 'postgres'), `${on}: listen.port`)
        assertSecretFile(s, cfg.tls?.cert, 'tls.cert')
        assertSecretFile(s, cfg.tls?.key, 'tls.key')
        assert.ok(cfg.catalog.cache_dir, `${on}: catalog.cache_dir (the root filesystem is read-only)`)
        assertWritableDir(s, cfg.catalog.cache_dir, 'catalog.cache_dir')
      }
      // os.tmpdir() must be writable too.
      assertWritableDir(s, '/tmp', 'the temp dir')
    }
    const gatewayUser = started.find((s) => s.gateway)!.gateway!.edge_credentials!.user
    assert.ok(edgeUsers.has(gatewayUser), `edges list no user ${gatewayUser}, the gateway's edge login`)
  } finally {
    dir.dispose()
  }
})

test('a config key the schema does not know stops the start, naming the key', () => {
  const w = workloads.find((x) => x.kind === 'DaemonSet')!
  const dir = tempDir('fedgres-deploy-')
  try {
    const file = join(dir.path, 'edge.yaml')
    writeFileSync(file, `${configMaps.find((m) => m.metadata?.name === 'fedgres-edge-config')!.data!['edge.yaml']}\ndata_directory: /var/lib/fedgres\n`)
    assert.throws(() => loadEdgeConfig({ file, env: containerEnv(w.pod.containers[0]!, secrets) }), /unknown key 'data_directory'/)
  } finally {
    dir.dispose()
  }
})

test('probes ask the metrics port for routes the HTTP endpoint answers with 200', async () => {
  const http = await startHttpEndpoint({ host: '127.0.0.1', port: 0, registry: new Registry() })
  try {
    const probed: string[] = []
    for (const w of workloads) {
      const c = w.pod.containers[0]!
      for (const [kind, probe] of Object.entries({ startup: c.startupProbe, liveness: c.livenessProbe, readiness: c.readinessProbe })) {
        assert.ok(probe?.httpGet, `${w.origin}: no ${kind} probe`)
        assert.equal(probe.httpGet.port, 'metrics', `${w.origin}: ${kind} probe port`)
        const path = probe.httpGet.path ?? '/'
        const res = await fetch(`http://127.0.0.1:${http.port}${path}`)
        assert.equal(res.status, 200, `${w.origin}: ${kind} probe ${path}`)
        probed.push(path)
      }
    }
    assert.deepEqual([...new Set(probed)].sort(), ['/healthz', '/readyz'])
    assert.equal((await fetch(`http://127.0.0.1:${http.port}/health`)).status, 404, 'a wrong path would fail the probe')
  } finally {
    await http.close()
  }
})

test('containers run as the image user, non-root, read-only, with no capabilities', () => {
  for (const w of workloads) {
    assert.equal(w.pod.securityContext?.runAsNonRoot, true, `${w.origin}: pod runAsNonRoot`)
    assert.equal(w.pod.securityContext?.runAsUser, 10001, `${w.origin}: the image's uid (deploy/Dockerfile)`)
    assert.equal(w.pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${w.origin}: seccomp`)
    assert.equal(w.pod.automountServiceAccountToken, false, `${w.origin}: no API token`)
    for (const c of w.pod.containers) {
      const sc = c.securityContext
      assert.equal(sc?.allowPrivilegeEscalation, false, `${w.origin} ${c.name}`)
      assert.equal(sc?.readOnlyRootFilesystem, true, `${w.origin} ${c.name}`)
      assert.deepEqual(sc?.capabilities?.drop, ['ALL'], `${w.origin} ${c.name}`)
      assert.equal(sc?.capabilities?.add, undefined, `${w.origin} ${c.name}`)
    }
    // The one root step: handing a hostPath data dir to uid 10001, with CAP_CHOWN alone.
    for (const c of w.pod.initContainers ?? []) {
      assert.deepEqual(c.command, ['chown', '10001:10001', c.volumeMounts?.[0]?.mountPath], `${w.origin} ${c.name}`)
      assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'], add: ['CHOWN'] }, `${w.origin} ${c.name}`)
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${w.origin} ${c.name}`)
    }
  }
})

test('every container has CPU and memory requests and limits', () => {
  for (const w of workloads) {
    for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
      for (const side of ['requests', 'limits'] as const) {
        assert.ok(c.resources?.[side]?.cpu && c.resources[side].memory, `${w.origin} ${c.name}: resources.${side}`)
      }
    }
  }
})
