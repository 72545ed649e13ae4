/**
 * npm run bench:ingest-rules — ingest throughput with 20 tagging rules and 5 alert rules active,
 * against the same agent with no rules, side by side in one run: the two configurations
 * alternate (ABAB…), each run offering more events per second than the agent can store, so the
 * stored rate is the agent's throughput. Reports the medians and their ratio; the target is to
 * stay within 15% of no rules.
 */
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { tempDir } from '../test/helpers/temp-dir.js'
import { runRate, type RunResult } from './ingest-run.js'
import { fmt, median } from './proc-stats.js'

const RATE = Number(process.env.BENCH_RATE ?? 30_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12)
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3)

/** 20 tagging rules of every kind, over the fields the event source fills. */
function taggingRules(): unknown[] {
  const eq = ['payments', 'checkout', 'kube-system', 'default', 'monitoring', 'ingress-nginx', 'db', 'auth'].map((ns) => ({ match: { namespace_name: ns }, tags: [`ns-${ns}`] }))
  const within = [
    { match: { operation: { in: ['Process', 'File'] }, namespace_name: { in: ['payments', 'checkout'] } }, tags: ['pci-activity'] },
    { match: { action: { in: ['Block', 'Audit (Block)'] } }, tags: ['blocked'] },
    { match: { host_name: { in: ['node-b1'] } }, tags: ['rack-1'] },
    { match: { container_name: { in: ['nginx', 'redis', 'postgres'] } }, tags: ['infra-container'] },
  ]
  const regex = [
    { match: { process_name: { regex: '/(ba|da|z)?sh$' } }, tags: ['shell'] },
    { match: { process_name: { regex: '/(curl|wget|nc|ncat)$' } }, tags: ['downloader'] },
    { match: { resource: { regex: '^/etc/(shadow|passwd|sudoers)' } }, tags: ['sensitive-file'] },
    { match: { container_image: { regex: ':latest(@|$)' } }, tags: ['unpinned-image'] },
  ]
  const cidr = [
    { match: { resource: { cidr: '10.0.0.0/8' } }, tags: ['net-10'] },
    { match: { resource: { cidr: ['172.16.0.0/12', '192.168.0.0/16'] } }, tags: ['net-private'] },
    { match: { resource: { cidr: '169.254.169.254/32' } }, tags: ['metadata-service'] },
    { match: { resource: { cidr: 'fd00::/8' } }, tags: ['net-ula'] },
  ]
  return [...eq, ...within, ...regex, ...cidr]
}

function alertsConfig(hookUrl: string): unknown {
  return {
    sinks: { hook: { type: 'webhook', url: hookUrl } },
    rules: [
      { name: 'shell-in-pci', when: { event: { namespace_name: { in: ['payments', 'checkout'] }, process_name: { regex: 'sh$' } } }, sinks: ['hook'], rate_limit: { max: 10, per: '1m' } },
      { name: 'blocked-action', when: { event: { action: 'Block' } }, sinks: ['hook'], rate_limit: { max: 10, per: '1m' } },
      { name: 'metadata-access', when: { event: { resource: { cidr: '169.254.169.254/32' } } }, sinks: ['hook'], rate_limit: { max: 10, per: '1m' } },
      { name: 'network-burst', when: { rate: { event: { operation: 'Network' }, count: 1000, window: '10s' } }, sinks: ['hook'] },
      { name: 'spool-backlog', when: { status: { spool_depth: { above: 10_000_000 } } }, sinks: ['hook'] },
    ],
  }
}


async function main(): Promise<void> {
  const dir = tempDir('fedgres-bench-rules-')
  let delivered = 0
  const hook = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      delivered++
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()))
  try {
    const plain = join(dir.path, 'plain.json')
    const ruled = join(dir.path, 'rules.json')
    writeFileSync(plain, JSON.stringify({}))
    // BENCH_RULES=tagging or alerts measures one kind alone (to see where the cost lies).
    const only = process.env.BENCH_RULES
    const alerts = alertsConfig(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`)
    writeFileSync(ruled, JSON.stringify({ ...(only !== 'alerts' && { tagging: { rules: taggingRules() } }), ...(only !== 'tagging' && { alerts }) }))
    const runs: { rules: boolean; r: RunResult }[] = []
    for (let i = 0; i < PAIRS; i++) {
      for (const rules of [false, true]) {
        const { result } = await runRate(RATE, SECONDS, join(dir.path, `run-${i}-${rules ? 'rules' : 'plain'}`), rules ? ruled : plain)
        runs.push({ rules, r: result })
        process.stderr.write(`${rules ? '20 tag + 5 alert rules' : 'no rules'}: ${fmt(result.perSecond)} events/s stored, ${fmt(result.lost)} lost of ${fmt(result.generated)}, ${fmt(result.cpuMicrosPerEvent, 2)} µs CPU/event\n`)
      }
    }
    const of = (rules: boolean, f: (r: RunResult) => number) => runs.filter((x) => x.rules === rules).map((x) => f(x.r))
    const none = median(of(false, (r) => r.perSecond))
    const withRules = median(of(true, (r) => r.perSecond))
    const cpuNone = median(of(false, (r) => r.cpuMicrosPerEvent))
    const cpuRules = median(of(true, (r) => r.cpuMicrosPerEvent))
    console.log(`\nIngest with rules: offered ${fmt(RATE)} events/s for ${SECONDS} s per run, ${PAIRS} runs each, alternating\n`)
    console.log('| configuration | stored events/s per run | median events/s | agent CPU µs/event per run | median µs/event |')
    console.log('|---|---|---:|---|---:|')
    for (const [label, rules] of [['no rules', false], ['20 tagging + 5 alert rules', true]] as const) {
      console.log(`| ${label} | ${of(rules, (r) => r.perSecond).map((n) => fmt(n)).join(', ')} | ${fmt(median(of(rules, (r) => r.perSecond)))} | ${of(rules, (r) => r.cpuMicrosPerEvent).map((n) => fmt(n, 2)).join(', ')} | ${fmt(median(of(rules, (r) => r.cpuMicrosPerEvent)), 2)} |`)
    }
    console.log(`\nThroughput with rules ÷ without: ${(withRules / none).toFixed(3)}; agent CPU per event without ÷ with: ${(cpuNone / cpuRules).toFixed(3)}`)
    console.log(`Alerts delivered to the webhook: ${delivered}`)
    console.log(`Target: throughput within 15% of no rules → ${withRules >= 0.85 * none ? 'met' : 'NOT met'}`)
  } finally {
    hook.close()
    dir.dispose()
  }
}

await main()
