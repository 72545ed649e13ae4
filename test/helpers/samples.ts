/** The real KubeArmor event samples in ../shared/data (karmor logs --json form). */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../../common/paths.js'
import { tableOf } from '../../edge-agent/ingest/event-to-row.js'

export const samplesDir = () => {
  const candidates = [process.env.FEDGRES_SAMPLES_DIR, join(repoRoot(), 'test', 'fixtures'), join(repoRoot(), '..', 'shared', 'data')]
  const dir = candidates.find((d) => d && existsSync(join(d, 'kubearmor-samples.jsonl')))
  if (!dir) throw new Error('KubeArmor sample files not found')
  return dir
}

export function loadSamples(): { alerts: Record<string, unknown>[]; logs: Record<string, unknown>[] } {
  const out = { alerts: [] as Record<string, unknown>[], logs: [] as Record<string, unknown>[] }
  for (const f of ['kubearmor-samples.jsonl', 'kubearmor-logs-real.jsonl']) {
    for (const line of readFileSync(join(samplesDir(), f), 'utf8').split('\n')) {
      if (!line.trim()) continue
      const ev = JSON.parse(line) as Record<string, unknown>
      out[tableOf(ev)].push(ev)
    }
  }
  return out
}
