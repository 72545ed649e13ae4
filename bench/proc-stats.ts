/** Resident memory of a process, from /proc (Linux). */
import { readFileSync } from 'node:fs'

function field(pid: number, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

export const rssBytes = (pid: number) => field(pid, 'VmRSS')
/** The peak resident set size the kernel recorded for the process. */
export const peakRssBytes = (pid: number) => field(pid, 'VmHWM')

/** CPU seconds (user + system, all threads) the process has used: /proc/<pid>/stat fields 14–15. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks; USER_HZ is 100 on Linux
}

/** Nanoseconds a process (or a PostgreSQL backend) has run on a CPU: /proc/<pid>/schedstat, exact where utime counts 10 ms ticks. */
export function cpuNanos(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
}

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
