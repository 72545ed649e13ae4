/**
 * Scrapes a /metrics endpoint as Prometheus would and parses the page with prom2javascript, a
 * Prometheus text-format parser that groups each histogram's _bucket/_sum/_count samples by
 * their labels and rejects a histogram whose +Inf bucket differs from its count.
 *
 * Chosen over parse-prometheus-text-format, which merges the series of a labelled histogram into
 * one and drops its _sum and _count (its issue #13, open since 2020): every histogram here has
 * labels. prom2javascript in turn has no `NaN` in its grammar, which Prometheus accepts and
 * prom-client prints (as `Nan`) for its event-loop delay gauges when two scrapes come closer than
 * the delay sampler's resolution. Such lines are set aside before parsing, and only those gauges
 * may have them.
 */
import assert from 'node:assert/strict'
import { getMetricsFromIterator, type PromData, type PromHistogramData, type PromMetrics } from 'prom2javascript'

export type Labels = Record<string, string>
type ValueType = 'counter' | 'gauge'

export class Scrape {
  constructor(readonly metrics: PromMetrics) {}

  family(name: string) {
    const f = this.metrics[name]
    assert.ok(f, `metric family ${name} is exposed (have: ${Object.keys(this.metrics).filter((n) => n.startsWith('fedgres')).join(', ')})`)
    return f
  }

  /** The samples of a counter or gauge whose labels include `match`. */
  values(name: string, type: ValueType, match: Labels = {}): PromData[] {
    const f = this.family(name)
    assert.equal(f.type, type, `${name} is a ${type}`)
    return (f.data as PromData[]).filter((m) => matches(m.labels, match))
  }

  sum(name: string, type: ValueType, match: Labels = {}): number {
    return this.values(name, type, match).reduce((s, m) => s + m.value, 0)
  }

  /** The histogram series whose labels include `match`, checked for well-formedness. */
  histograms(name: string, match: Labels = {}): PromHistogramData[] {
    const f = this.family(name)
    assert.equal(f.type, 'histogram', `${name} is a histogram`)
    const series = (f.data as PromHistogramData[]).filter((m) => matches(m.labels, match))
    for (const h of series) {
      const le = (b: string) => (b === '+Inf' ? Infinity : Number(b))
      const bounds = Object.keys(h.buckets).sort((a, b) => le(a) - le(b))
      assert.equal(bounds.at(-1), '+Inf', `${name}: the last bucket is +Inf`)
      const counts = bounds.map((b) => h.buckets[b]!)
      for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!, `${name}: buckets are cumulative`)
      assert.equal(counts.at(-1), h.count, `${name}: the +Inf bucket holds every observation`)
      assert.ok((h.sum ?? -1) >= 0, `${name}: a sum of durations, not negative`)
    }
    return series
  }

  /** Observations over the matching series of a histogram. */
  observations(name: string, match: Labels = {}): number {
    return this.histograms(name, match).reduce((n, h) => n + h.count, 0)
  }
}

const matches = (labels: Labels, match: Labels) => Object.entries(match).every(([k, v]) => labels[k] === v)

export async function scrape(port: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  const lines = (await res.text()).split('\n')
  const nan = lines.filter((l) => /^[a-zA-Z_:][\w:]*(\{.*\})? nan$/i.test(l))
  for (const l of nan) assert.match(l, /^nodejs_eventloop_lag_/, 'only prom-client\'s event-loop gauges may be NaN')
  return new Scrape(await getMetricsFromIterator(lines.filter((l) => !nan.includes(l))[Symbol.iterator]()))
}
