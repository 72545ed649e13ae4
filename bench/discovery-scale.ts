/**
 * node --expose-gc dist/bench/discovery-scale.js [N,...] — what Consul discovery costs a gateway
 * as the network grows to thousands of edges. For each N, bench/discovery-scale-consul.ts runs the
 * Consul test server with N registered edges in a child process (so this process's CPU is the
 * gateway's alone), and a ConsulDiscovery with the default rate limits watches it. Measured: the
 * time to the first ready view; CPU and wall time from one edge's synopsis write (or check flip)
 * to the view that shows it (median of ROUNDS); the heap the discovery holds; the CPU per second
 * while every edge republishes its synopsis once per minute, and while nothing changes (the KV
 * index probes that confirm the synopses); and the planner's first
 * chooseTargets on a fresh edge list (what every new list costs).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { rootLogger } from '../common/log.js'
import { ConsulDiscovery } from '../gateway/discovery/consul-discovery.js'
import type { EdgeView } from '../gateway/discovery/edge-view.js'
import { chooseTargets } from '../gateway/plan/prune.js'
import { fmt, median } from './proc-stats.js'

const SIZES = (process.argv[2] ?? '1000,5000').split(',').map(Number)
const ROUNDS = 9
const CHURN_SECONDS = Number(process.env.CHURN_SECONDS ?? 20)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')

const log = rootLogger('gateway', 'error')
const cpuMs = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from)
  return (u.user + u.system) / 1000
}
const heap = () => {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

class Child {
  readonly proc: ChildProcess
  #seq = 1
  readonly #waiting = new Map<number, (m: Record<string, unknown>) => void>()
  readonly first: Promise<Record<string, unknown>>
  constructor(n: number) {
    this.proc = fork(fileURLToPath(new URL('./discovery-scale-consul.js', import.meta.url)), [String(n)], { stdio: 'inherit' })
    this.first = new Promise((resolve) => this.#waiting.set(0, resolve))
    this.proc.on('message', (m: Record<string, unknown>) => {
      this.#waiting.get(m.seq as number)?.(m)
      this.#waiting.delete(m.seq as number)
    })
  }
  ask(op: string, extra: object = {}): Promise<Record<string, unknown>> {
    const seq = this.#seq++
    return new Promise((resolve) => {
      this.#waiting.set(seq, resolve)
      this.proc.send({ op, seq, ...extra })
    })
  }
  async exit(): Promise<void> {
    const gone = new Promise((r) => this.proc.once('exit', r))
    this.proc.send({ op: 'exit', seq: -1 })
    await gone
  }
}

/** Resolves with the first view from now on that satisfies `accept`. */
function viewWhere(d: ConsulDiscovery, accept: (v: EdgeView) => boolean): Promise<EdgeView> {
  return new Promise((resolve) => {
    const off = d.onChange((v) => {
      if (accept(v)) {
        off()
        resolve(v)
      }
    })
  })
}

/** CPU ms per second of this process while a statement plans every 20 ms for `seconds`. */
async function withStatements(d: ConsulDiscovery, seconds: number): Promise<number> {
  const cpu = process.cpuUsage()
  const t = performance.now()
  while (performance.now() - t < seconds * 1000) {
    const v = d.current()
    chooseTargets(v.edges, [{ table: 'logs', r: null }], Date.now(), 5000)
    await new Promise((res) => setTimeout(res, 20))
  }
  return cpuMs(cpu) / ((performance.now() - t) / 1000)
}

const rows: Record<string, string>[] = []
for (const n of SIZES) {
  const child = new Child(n)
  const { url } = await child.first
  const heapBefore = heap()
  let cpu = process.cpuUsage()
  let t = performance.now()
  const d = new ConsulDiscovery({ consul: { address: url as string }, log })
  const first = await d.ready(600_000)
  const readyMs = performance.now() - t
  const readyCpu = cpuMs(cpu)
  if (first.edges.length !== n) throw new Error(`ready view has ${first.edges.length} edges, not ${n}`)
  await new Promise((r) => setTimeout(r, 500))
  const heapHeld = heap() - heapBefore

  const at = (v: EdgeView, id: string) => v.edges.find((e) => e.edgeId === id)
  const edgeId = (i: number) => `e${String(i).padStart(5, '0')}`
  const synCpu: number[] = []
  const synWall: number[] = []
  const flipCpu: number[] = []
  const flipWall: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const i = (r * 7919) % n
    await new Promise((res) => setTimeout(res, 250)) // both loops parked, bucket full
    cpu = process.cpuUsage()
    t = performance.now()
    const want = child.ask('bump', { i })
    const seen = viewWhere(d, (v) => (at(v, edgeId(i))?.synopsis?.version ?? 0) >= 2)
    await Promise.all([want, seen])
    synWall.push(performance.now() - t)
    synCpu.push(cpuMs(cpu))

    await new Promise((res) => setTimeout(res, 250))
    cpu = process.cpuUsage()
    t = performance.now()
    const down = viewWhere(d, (v) => at(v, edgeId(i))?.status === 'critical')
    await Promise.all([child.ask('fail', { i }), down])
    flipWall.push(performance.now() - t)
    flipCpu.push(cpuMs(cpu))
    const up = viewWhere(d, (v) => at(v, edgeId(i))?.status === 'passing')
    await Promise.all([child.ask('pass', { i }), up])
  }

  // The planner on a fresh edge list (current() makes one per change, or every 100 ms).
  const plan: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    await new Promise((res) => setTimeout(res, 120))
    const v = d.current()
    cpu = process.cpuUsage()
    chooseTargets(v.edges, [{ table: 'logs', r: null }], Date.now(), 5000)
    plan.push(cpuMs(cpu))
  }

  // Nothing changes: both polls parked, the KV index probed to confirm the synopses (index-confirmation.ts).
  const probes0 = d.requests.kvProbes
  cpu = process.cpuUsage()
  t = performance.now()
  await new Promise((res) => setTimeout(res, 5000))
  const quietCpuPerS = cpuMs(cpu) / ((performance.now() - t) / 1000)
  const quietProbesPerS = (d.requests.kvProbes - probes0) / ((performance.now() - t) / 1000)

  // Statements at 50 a second, each planning on current(): what the planner's per-list work costs
  // with no change at all (a new list whenever synopsisCurrentAt moves on).
  const statementsCpuPerS = await withStatements(d, 5)

  await child.ask('churn', { periodMs: 60_000 })
  await new Promise((res) => setTimeout(res, 3000))
  const req0 = d.requests.kv
  let views = 0
  const off = d.onChange(() => views++)
  // How old the synopses' confirmation gets under churn: past SYNOPSIS_MAX_AGE_MS the planner would stop pruning.
  const ages: number[] = []
  const sampler = setInterval(() => ages.push(Date.now() - d.current().edges[0]!.synopsisCurrentAt), 20)
  cpu = process.cpuUsage()
  t = performance.now()
  await new Promise((res) => setTimeout(res, CHURN_SECONDS * 1000))
  const churnCpuPerS = cpuMs(cpu) / ((performance.now() - t) / 1000)
  clearInterval(sampler)
  const churnWall = (performance.now() - t) / 1000
  off()
  const kvPolls = d.requests.kv - req0
  const churnStatementsCpuPerS = await withStatements(d, CHURN_SECONDS)
  await child.ask('stop')
  await d.close()
  await child.exit()
  rows.push({
    N: fmt(n), 'ready ms': fmt(readyMs), 'ready CPU ms': fmt(readyCpu), 'heap MB': fmt(heapHeld / 2 ** 20, 1),
    'synopsis CPU ms': fmt(median(synCpu), 1), 'synopsis wall ms': fmt(median(synWall), 1),
    'flip CPU ms': fmt(median(flipCpu), 1), 'flip wall ms': fmt(median(flipWall), 1),
    'plan fresh list CPU ms': fmt(median(plan), 2),
    'quiet CPU ms/s': fmt(quietCpuPerS, 1), 'quiet probes/s': fmt(quietProbesPerS, 1),
    'idle + 50 stmt/s CPU ms/s': fmt(statementsCpuPerS),
    'churn CPU ms/s': fmt(churnCpuPerS), 'churn + 50 stmt/s CPU ms/s': fmt(churnStatementsCpuPerS), 'churn views/s': fmt(views / churnWall, 1), 'churn kv polls/s': fmt(kvPolls / churnWall, 1),
    'churn confirmation age ms (median, max)': `${fmt(median(ages))}, ${fmt(Math.max(...ages))}`,
  })
  console.error(JSON.stringify(rows.at(-1)))
}
const cols = Object.keys(rows[0]!)
console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`)
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`)
