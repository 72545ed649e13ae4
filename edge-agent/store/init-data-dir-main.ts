/** The child process of init-data-dir.ts: `node init-data-dir-main.js <pgdata> <shared_buffers>`. */
import { readFileSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'

/**
 * This process's peak resident set, from VmHWM on Linux. getrusage's maxRSS would not do: Linux
 * keeps it across exec, so it would count the parent's memory at the fork.
 */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024
}

const [dir, sharedBuffers] = process.argv.slice(2) as [string, string]
try {
  const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`] })
  await db.close()
  process.send!({ peakRssBytes: peakRss() }, () => process.exit(0))
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
}
