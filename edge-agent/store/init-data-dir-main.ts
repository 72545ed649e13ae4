/** The child process of init-data-dir.ts: `node init-data-dir-main.js <pgdata> <shared_buffers>`. */
import { PGlite } from '@electric-sql/pglite'

const [dir, sharedBuffers] = process.argv.slice(2) as [string, string]
try {
  const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`] })
  await db.close()
  // resourceUsage().maxRSS is in kB.
  process.send!({ peakRssBytes: process.resourceUsage().maxRSS * 1024 }, () => process.exit(0))
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
}
