/**
 * Go `time.Duration` text, as Consul reads it (`wait=5s`, `TTL: "15s"`,
 * `DeregisterCriticalServiceAfter: "1m"`) and writes it back (`1m0s`). Part of the project's
 * Consul-compatible test server; milliseconds are the unit on the TypeScript side.
 */

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses like Go's `time.ParseDuration`; undefined where Go would return an error. */
export function parseGoDuration(text: string): number | undefined {
  let s = text
  let sign = 1
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1
    s = s.slice(1)
  }
  // Go accepts a bare "0" and nothing else without a unit ("missing unit in duration").
  if (s === '0') return 0
  if (s === '') return undefined
  let total = 0
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/
  while (s.length > 0) {
    const m = part.exec(s)
    if (!m) return undefined
    total += Number(m[1]) * unitMs[m[2]!]!
    s = s.slice(m[0].length)
  }
  return sign * total
}

/**
 * A JSON duration field: Consul's decoder takes a Go duration string or a number of
 * nanoseconds. Returns undefined for anything else, so the caller can answer 400.
 */
export function durationField(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value / 1e6
  if (typeof value === 'string') return value === '' ? 0 : parseGoDuration(value)
  return undefined
}

/** Formats like Go's `Duration.String()`: `1m0s`, `1.5s`, `100ms`, `0s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s'
  const neg = ms < 0
  let rest = Math.abs(ms)
  let out: string
  if (rest < 1000) {
    out = rest >= 1 ? `${trim(rest)}ms` : rest >= 1e-3 ? `${trim(rest * 1e3)}µs` : `${trim(rest * 1e6)}ns`
  } else {
    const h = Math.floor(rest / 3_600_000)
    rest -= h * 3_600_000
    const m = Math.floor(rest / 60_000)
    rest -= m * 60_000
    out = `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${trim(rest / 1000)}s`
  }
  return neg ? `-${out}` : out
}

const trim = (n: number) => String(Number(n.toFixed(9)))
