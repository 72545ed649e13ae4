/**
 * Generates realistic KubeArmor events: container and host logs for process, file and network
 * operations, policy alerts (Block and Audit, AppArmor and BPF-LSM), network-firewall alerts and
 * throttle notices, across several namespaces, workloads and nodes.
 *
 * Every event carries a sequence number, `EventData.Seq`, so tests can count losses.
 * A seeded PRNG makes a run reproducible.
 */
import { HOST_PROCESSES, POLICIES, WORKLOADS, type Policy, type Workload } from './workloads.js'

export type GeneratedTable = 'alerts' | 'logs'
export type Event = Record<string, unknown>

export interface GeneratorOptions {
  readonly seed?: number
  readonly cluster?: string
  /** Node names this source reports: one for a daemon, several for a relay. */
  readonly hosts: readonly string[]
  /** Fraction of events that are alerts (default 0.2). */
  readonly alertRatio?: number
  /** One AlertThreshold notice per this many alerts (default 400). */
  readonly throttleEvery?: number
  /** Fraction of events shaped like KubeArmor before v1.5.7, without the newer fields (default 0). */
  readonly legacyRatio?: number
  readonly kubearmorVersion?: string
  /** First sequence number (default 1). */
  readonly firstSeq?: number
}

/** mulberry32: small, fast and good enough for synthetic traffic. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex = (rnd: () => number, n: number) => {
  let s = ''
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)]
  return s
}

/** `2006-01-02T15:04:05.000000Z`, as KubeArmor formats UpdatedTime. */
export function formatUpdatedTime(micros: number): string {
  const ms = Math.floor(micros / 1000)
  return new Date(ms).toISOString().slice(0, 19) + '.' + String(Math.floor(micros % 1_000_000)).padStart(6, '0') + 'Z'
}

interface Pod {
  readonly w: Workload
  readonly host: string
  readonly pod: string
  readonly containerId: string
  readonly hostPid: number
}

export class EventGenerator {
  seq: number
  readonly #rnd: () => number
  readonly #opts: Required<Omit<GeneratorOptions, 'seed' | 'firstSeq'>>
  readonly #pods: Pod[]
  readonly #nodeIds: Map<string, string>
  #alerts = 0

  constructor(opts: GeneratorOptions) {
    this.#rnd = prng(opts.seed ?? 1)
    this.seq = opts.firstSeq ?? 1
    this.#opts = {
      cluster: opts.cluster ?? 'default',
      hosts: opts.hosts,
      alertRatio: opts.alertRatio ?? 0.2,
      throttleEvery: opts.throttleEvery ?? 400,
      legacyRatio: opts.legacyRatio ?? 0,
      kubearmorVersion: opts.kubearmorVersion ?? 'v1.7.4',
    }
    const rnd = this.#rnd
    this.#nodeIds = new Map(opts.hosts.map((h) => [h, hex(rnd, 64)]))
    // Each node runs a replica of most workloads, as a scheduler spreading pods would.
    this.#pods = []
    for (const host of opts.hosts) {
      for (const w of WORKLOADS) {
        if (rnd() < 0.25) continue
        const suffix = w.kind === 'StatefulSet' ? '-0' : `-${hex(rnd, 9)}-${hex(rnd, 5)}`
        this.#pods.push({ w, host, pod: w.name + suffix, containerId: hex(rnd, 64), hostPid: 1000 + Math.floor(rnd() * 2_000_000) })
      }
    }
    if (this.#pods.length === 0) {
      this.#pods.push({ w: WORKLOADS[0]!, host: opts.hosts[0]!, pod: 'wordpress-0', containerId: hex(rnd, 64), hostPid: 4242 })
    }
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#rnd() * items.length)]!
  }

  /** The next event, stamped at `micros` (microseconds since the Unix epoch). */
  next(micros: number): { table: GeneratedTable; event: Event } {
    const rnd = this.#rnd
    const seq = this.seq++
    const isAlert = rnd() < this.#opts.alertRatio
    if (isAlert && this.#alerts++ % this.#opts.throttleEvery === this.#opts.throttleEvery - 1) {
      return { table: 'alerts', event: this.#throttleNotice(micros, seq) }
    }
    const hostEvent = rnd() < 0.1
    const p = this.#pick(this.#pods)
    const host = hostEvent ? this.#pick(this.#opts.hosts) : p.host
    const proc = hostEvent ? this.#pick(HOST_PROCESSES) : this.#pick(p.w.processes)
    const policy = isAlert ? this.#pick(POLICIES) : undefined
    const op = policy?.operation ?? this.#pick(['Process', 'Process', 'File', 'File', 'File', 'Network'] as const)
    const pid = 1 + Math.floor(rnd() * 400)
    const ev: Event = {
      Timestamp: String(Math.floor(micros / 1e6)),
      UpdatedTime: formatUpdatedTime(micros),
      ClusterName: this.#opts.cluster,
      HostName: host,
    }
    if (!hostEvent) {
      Object.assign(ev, {
        NamespaceName: p.w.namespace,
        Owner: { Ref: p.w.kind, Name: p.w.name, Namespace: p.w.namespace },
        PodName: p.pod,
        Labels: p.w.labels,
        ContainerID: p.containerId,
        ContainerName: p.w.container,
        ContainerImage: p.w.image,
      })
    }
    Object.assign(ev, {
      HostPPID: p.hostPid,
      HostPID: p.hostPid + pid,
      PPID: hostEvent ? p.hostPid : 1,
      PID: hostEvent ? p.hostPid + pid : pid,
      UID: rnd() < 0.8 ? 0 : 1000,
      ParentProcessName: proc.parent,
      ProcessName: proc.path,
    })
    const { resource, data, eventData } = this.#operation(op, p.w, proc)
    const alertType = hostEvent ? 'MatchedHostPolicy' : 'MatchedPolicy'
    if (policy) this.#fillAlert(ev, policy, alertType)
    Object.assign(ev, { Type: policy ? alertType : hostEvent ? 'HostLog' : 'ContainerLog', Source: `${proc.path}${proc.args ? ' ' + proc.args : ''}`, Operation: op, Resource: resource, Data: data })
    const legacy = rnd() < this.#opts.legacyRatio
    if (!legacy) {
      ev.EventData = { ...eventData, Seq: String(seq) }
      ev.ExecEvent = { ExecID: String(800000000000000 + Math.floor(rnd() * 1e14)), ExecutableName: proc.path.slice(proc.path.lastIndexOf('/') + 1) }
      ev.NodeID = this.#nodeIds.get(host)
      if (hostEvent) ev.UserName = ev.UID === 0 ? 'root' : 'ubuntu'
    } else {
      delete ev.Owner
    }
    if (policy) {
      ev.Action = policy.action
      ev.Result = policy.action === 'Block' ? 'Permission denied' : 'Passed'
      ev.Enforcer = policy.action === 'Block' ? this.#pick(['BPFLSM', 'AppArmor'] as const) : 'eBPF Monitor'
      if (!legacy) ev.KubeArmorVersion = this.#opts.kubearmorVersion
    } else ev.Result = rnd() < 0.97 ? 'Passed' : 'Permission denied'
    ev.Cwd = '/'
    if (rnd() < 0.3) ev.TTY = 'pts0'
    return { table: policy ? 'alerts' : 'logs', event: ev }
  }

  #fillAlert(ev: Event, policy: Policy, type: string): void {
    ev.PolicyName = policy.name
    if (policy.severity > 0) ev.Severity = String(policy.severity)
    if (policy.tags.length > 0) {
      ev.Tags = policy.tags.join(',')
      ev.ATags = [...policy.tags]
    }
    if (policy.message) ev.Message = policy.message
    ev.Type = type
  }

  #operation(op: string, w: Workload, proc: { path: string; args: string }): { resource: string; data: string; eventData: Record<string, string> } {
    if (op === 'Process') return { resource: `${proc.path}${proc.args ? ' ' + proc.args : ''}`, data: 'syscall=SYS_EXECVE', eventData: { Syscall: 'SYS_EXECVE' } }
    if (op === 'File') {
      const flags = this.#pick(['O_RDONLY', 'O_RDONLY|O_CLOEXEC', 'O_WRONLY|O_CREAT|O_TRUNC'])
      return { resource: this.#pick(w.files), data: `syscall=SYS_OPENAT fd=-100 flags=${flags}`, eventData: { Syscall: 'SYS_OPENAT', Fd: '-100', Flags: flags } }
    }
    const [addr, port] = this.#pick(w.peers).split(':') as [string, string]
    const fd = String(3 + Math.floor(this.#rnd() * 20))
    return {
      resource: `sa_family=AF_INET sin_port=${port} sin_addr=${addr}`,
      data: `syscall=SYS_CONNECT fd=${fd}`,
      eventData: { Syscall: 'SYS_CONNECT', Fd: fd, Sa_family: 'AF_INET', Sin_port: port, Sin_addr: addr },
    }
  }

  /** KubeArmor's alert-throttling notice: alerts from a container are being dropped at source. */
  #throttleNotice(micros: number, seq: number): Event {
    const p = this.#pick(this.#pods)
    return {
      Timestamp: String(Math.floor(micros / 1e6)),
      UpdatedTime: formatUpdatedTime(micros),
      ClusterName: this.#opts.cluster,
      HostName: p.host,
      NamespaceName: p.w.namespace,
      Owner: { Ref: p.w.kind, Name: p.w.name, Namespace: p.w.namespace },
      PodName: p.pod,
      Labels: p.w.labels,
      ContainerID: p.containerId,
      ContainerName: p.w.container,
      ContainerImage: p.w.image,
      PPID: 0,
      UID: 0,
      Type: 'SystemEvent',
      Operation: 'AlertThreshold',
      EventData: { Seq: String(seq) },
      Enforcer: 'BPFLSM',
      Result: 'Passed',
      MaxAlertsPerSec: 10,
      DroppingAlertsInterval: 30,
      ExecEvent: {},
      KubeArmorVersion: this.#opts.kubearmorVersion,
    }
  }
}
