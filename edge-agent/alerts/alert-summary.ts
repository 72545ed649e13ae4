/** The one-line `summary` of each kind of alert: what a person reads in Slack or a syslog viewer. */

const MAX_SUMMARY = 300

/** 1500 → "1.5s", 120000 → "2m", 5400000 → "1h30m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`
  const totalMin = Math.floor(ms / 60_000)
  const h = Math.floor(totalMin / 60)
  const m = totalMin % 60
  const s = Math.floor((ms % 60_000) / 1000)
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`
  return s > 0 ? `${m}m${s}s` : `${m}m`
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/**
 * From a KubeArmor event's columns (schema/columns.ts):
 * "Process /usr/bin/python3 -m pydoc (Block) in multiubuntu/ubuntu-1-5s8pf, policy ksp-allow-proc".
 * Host events say "on host <node>" instead of namespace/pod.
 */
export function eventSummary(e: Readonly<Record<string, unknown>>): string {
  const what = [str(e.operation) ?? 'Event', str(e.resource)].filter(Boolean).join(' ')
  const action = str(e.action) ? ` (${str(e.action)})` : ''
  const ns = str(e.namespace_name)
  const pod = str(e.pod_name)
  const where = pod ? ` in ${ns ? `${ns}/` : ''}${pod}` : str(e.host_name) ? ` on host ${str(e.host_name)}` : ''
  const policy = str(e.policy_name) ? `, policy ${str(e.policy_name)}` : ''
  return clip(`${what}${action}${where}${policy}`)
}

export function rateSummary(count: number, windowMs: number, hits: number, spanMs: number): string {
  return `more than ${count} matching events within ${formatDuration(windowMs)} (${hits} in ${formatDuration(spanMs)})`
}

const clip = (s: string): string => (s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY - 1)}…` : s)
