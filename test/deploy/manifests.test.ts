/**
 * deploy/kubernetes: every YAML document is a valid Kubernetes object by the Kubernetes OpenAPI
 * schemas (kubernetes-models), the validator itself refuses broken objects, and the kustomization
 * names files and an image that exist. How the workloads run (their configs, mounts, probes and
 * security settings) is checked in workload-configs.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { deployDir, filesUnder, packageVersion, readDocuments, type LoadedObject } from './deploy-files.js'
import { validateKubernetesObject } from './kubernetes-schema.js'
import { workloadsOf } from './pod-env.js'

const KUSTOMIZE_API = 'kustomize.config.k8s.io/v1beta1'

function kubernetesObjects(): LoadedObject[] {
  return filesUnder(deployDir('kubernetes'), ['.yaml', '.yml', '.json'])
    .flatMap(readDocuments)
    .filter((d) => d.object.apiVersion !== KUSTOMIZE_API)
}

/** A small valid DaemonSet, with `container` and `spec` fields replaced to break one at a time. */
function daemonSet(container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Record<string, unknown> {
  const c = { name: 'c', image: 'fedgres:0', ports: [{ containerPort: 5433 }], ...container }
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'x', namespace: 'fedgres' },
    spec: {
      selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [c] } },
      ...spec,
    },
  }
}

test('every object under deploy/kubernetes is valid by the Kubernetes schemas', () => {
  const objects = kubernetesObjects()
  const kinds = new Set(objects.map((o) => o.object.kind))
  for (const kind of ['Namespace', 'ServiceAccount', 'ConfigMap', 'DaemonSet', 'StatefulSet', 'Deployment', 'Service', 'Secret']) {
    assert.ok(kinds.has(kind), `no ${kind} found under deploy/kubernetes`)
  }
  const failures: string[] = []
  for (const { origin, object } of objects) {
    try {
      validateKubernetesObject(object)
    } catch (e) {
      failures.push(`${origin} (${String(object.kind)}): ${(e as Error).message}`)
    }
  }
  assert.deepEqual(failures, [])
})

test('the validator refuses broken objects, so the check above is live', () => {
  assert.doesNotThrow(() => validateKubernetesObject(daemonSet()))

  assert.throws(() => validateKubernetesObject(daemonSet({ ports: [{ containerPort: 'postgres' }] })), /containerPort must be integer/)
  assert.throws(() => validateKubernetesObject(daemonSet({ livenessProbe: { httpGet: { path: '/healthz' } } })), /port/)
  assert.throws(() => validateKubernetesObject(daemonSet({ image: 5 })), /image must be string/)
  assert.throws(() => validateKubernetesObject(daemonSet({}, { selector: undefined })), /selector/)
  assert.throws(() => validateKubernetesObject(daemonSet({}, { template: { spec: {} } })), /containers/)
  assert.throws(() => validateKubernetesObject({ ...daemonSet(), apiVersion: 'extensions/v1beta1' }), /no schema/)
})

test('every object is named and, but for the Namespace, lives in namespace fedgres', () => {
  for (const { origin, object } of kubernetesObjects()) {
    const meta = (object.metadata ?? {}) as { name?: string; namespace?: string }
    assert.ok(meta.name, `${origin}: no metadata.name`)
    if (object.kind !== 'Namespace') assert.equal(meta.namespace, 'fedgres', `${origin}: ${String(object.kind)} ${meta.name}`)
  }
})

test('every ConfigMap, Secret and ServiceAccount a workload names is defined', () => {
  const objects = kubernetesObjects()
  const defined = (kind: string) => new Set(objects.filter((o) => o.object.kind === kind).map((o) => (o.object.metadata as { name: string }).name))
  const configMaps = defined('ConfigMap')
  const secrets = defined('Secret')
  const accounts = defined('ServiceAccount')
  const workloads = workloadsOf(objects)
  assert.ok(workloads.length >= 3, 'expected the edge DaemonSet, the relay StatefulSet and the gateway Deployment')
  for (const w of workloads) {
    assert.ok(accounts.has(w.pod.serviceAccountName ?? ''), `${w.origin}: ServiceAccount ${w.pod.serviceAccountName}`)
    for (const v of w.pod.volumes ?? []) {
      if (v.configMap) assert.ok(configMaps.has(v.configMap.name ?? ''), `${w.origin}: ConfigMap ${v.configMap.name}`)
      if (v.secret) assert.ok(secrets.has(v.secret.secretName ?? ''), `${w.origin}: Secret ${v.secret.secretName} (examples/secrets.example.yaml)`)
    }
    for (const c of w.pod.containers) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef
        if (ref) assert.ok(secrets.has(ref.name ?? ''), `${w.origin}: env ${e.name} reads Secret ${ref.name}`)
      }
    }
  }
})

test('the kustomization lists files that exist and retags the image the manifests use', () => {
  const file = deployDir('kubernetes', 'kustomization.yaml')
  const [k] = readDocuments(file)
  assert.ok(k)
  const spec = k.object as { apiVersion: string; kind: string; resources: string[]; images: { name: string; newTag?: string }[]; namespace: string }
  assert.equal(spec.apiVersion, KUSTOMIZE_API)
  assert.equal(spec.kind, 'Kustomization')
  assert.equal(spec.namespace, 'fedgres')
  for (const r of spec.resources) assert.ok(existsSync(join(dirname(file), r)), `kustomization resource ${r} does not exist`)
  assert.ok(!spec.resources.some((r) => r.includes('example')), 'example Secrets must not be applied by the kustomization')
  assert.ok(!(spec.resources.includes('edge-daemonset.yaml') && spec.resources.includes('edge-relay.yaml')), 'the two edge variants store every event twice together')

  const images = new Set(workloadsOf(kubernetesObjects()).flatMap((w) => [...(w.pod.initContainers ?? []), ...w.pod.containers].map((c) => c.image ?? '')))
  const names = new Set([...images].map((i) => i.replace(/:[^:/]+$/, '')))
  assert.deepEqual([...names], spec.images.map((i) => i.name))
  assert.deepEqual(spec.images.map((i) => i.newTag), [packageVersion()])
})

test('the manifests run the image of the package version', () => {
  const version = packageVersion()
  for (const w of workloadsOf(kubernetesObjects())) {
    for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) assert.equal(c.image, `fedgres:${version}`, `${w.origin} container ${c.name}`)
  }
})
