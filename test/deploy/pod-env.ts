/**
 * What a container of a manifest would see at run time, worked out the way the kubelet does it:
 * its environment (literal values with `$(VAR)` references, Secret keys, downward-API fields) and
 * which volume is mounted at a given path. The tests use it to start the real config loaders on a
 * ConfigMap's file with the environment the Pod would have.
 */
import type { IContainer, IPodSpec, ISecret, IVolume, IVolumeMount } from 'kubernetes-models/v1'
import type { LoadedObject } from './deploy-files.js'

export interface Workload {
  readonly origin: string
  readonly kind: 'DaemonSet' | 'Deployment' | 'StatefulSet'
  readonly name: string
  readonly pod: IPodSpec
  /** Volume names that a StatefulSet's volumeClaimTemplates provide. */
  readonly claimVolumes: readonly string[]
}

export function workloadsOf(objects: readonly LoadedObject[]): Workload[] {
  const out: Workload[] = []
  for (const { origin, object } of objects) {
    const kind = object.kind
    if (kind !== 'DaemonSet' && kind !== 'Deployment' && kind !== 'StatefulSet') continue
    const spec = object.spec as { template: { spec: IPodSpec }; volumeClaimTemplates?: { metadata?: { name?: string } }[] }
    const name = (object.metadata as { name: string }).name
    const claimVolumes = (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '')
    out.push({ origin, kind, name, pod: spec.template.spec, claimVolumes })
  }
  return out
}

/** Stand-ins for the downward API's fields, as a scheduled Pod would have them. */
export const FIELD_VALUES: Readonly<Record<string, string>> = {
  'status.hostIP': '10.0.0.5',
  'status.podIP': '10.244.1.7',
  'metadata.name': 'fedgres-edge-relay-0',
  'metadata.namespace': 'fedgres',
  'spec.nodeName': 'node-a',
}

/** The value of `key` in a Secret (stringData, or base64 data), or undefined. */
export function secretValue(secrets: readonly ISecret[], name: string, key: string): string | undefined {
  const s = secrets.find((x) => x.metadata?.name === name)
  if (!s) return undefined
  if (s.stringData?.[key] !== undefined) return s.stringData[key]
  const b64 = s.data?.[key]
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8')
}

/**
 * Kubernetes' `$(VAR)` expansion in `env[].value`: a reference to a variable defined earlier in the
 * list is replaced, `$$` escapes, and any other reference is left as written.
 */
export function expandRefs(value: string, defined: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$'
    return name !== undefined && Object.hasOwn(defined, name) ? defined[name]! : m
  })
}

/** The container's environment; a missing Secret key or an unknown field throws, naming it. */
export function containerEnv(c: IContainer, secrets: readonly ISecret[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = expandRefs(v.value, env)
    else if (v.valueFrom?.secretKeyRef) {
      const { name, key } = v.valueFrom.secretKeyRef
      const value = secretValue(secrets, name ?? '', key)
      if (value === undefined) throw new Error(`${c.name}: env ${v.name} reads Secret ${name} key ${key}, which no example Secret has`)
      env[v.name] = value
    } else if (v.valueFrom?.fieldRef) {
      const value = FIELD_VALUES[v.valueFrom.fieldRef.fieldPath]
      if (value === undefined) throw new Error(`${c.name}: env ${v.name} reads field ${v.valueFrom.fieldRef.fieldPath}, which the test does not simulate`)
      env[v.name] = value
    } else throw new Error(`${c.name}: env ${v.name} has a source the test does not simulate`)
  }
  return env
}

export interface Mounted {
  readonly mount: IVolumeMount
  /** Undefined for a volume from a StatefulSet's volumeClaimTemplates. */
  readonly volume: IVolume | undefined
}

/** The mount that holds `path` (the deepest one), or undefined. */
export function mountHolding(w: Workload, c: IContainer, path: string): Mounted | undefined {
  let best: IVolumeMount | undefined
  for (const m of c.volumeMounts ?? []) {
    const dir = m.mountPath.replace(/\/$/, '')
    if ((path === dir || path.startsWith(`${dir}/`)) && (!best || dir.length > best.mountPath.length)) best = m
  }
  if (!best) return undefined
  const volume = w.pod.volumes?.find((v) => v.name === best.name)
  if (!volume && !w.claimVolumes.includes(best.name)) throw new Error(`${c.name}: mount ${best.mountPath} names volume ${best.name}, which the Pod does not define`)
  return { mount: best, volume }
}

/** `--config <path>` from the container's args, and the role (the CLI command, args[0]). */
export function cliInvocation(c: IContainer): { role: string; config: string } {
  const args = c.args ?? []
  const i = args.indexOf('--config')
  if (i < 0 || !args[i + 1]) throw new Error(`${c.name}: no --config in args ${JSON.stringify(args)}`)
  return { role: args[0] ?? '', config: args[i + 1]! }
}
