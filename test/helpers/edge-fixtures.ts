/** Edge-agent fixtures: configs for tests, and a way to read a stopped edge's store. */
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { edgeConfigSchema, type EdgeConfig } from '../../edge-agent/config.js'

export function edgeConfig(dataDir: string, sources: string[], extra: Record<string, unknown> = {}): EdgeConfig {
  return edgeConfigSchema.parse({
    edge_id: 'edge-test',
    data_dir: dataDir,
    sources: sources.map((address) => ({ address, health_interval: '5s', reconnect_max: '1s' })),
    synopsis: { publish_grace: 0 },
    log_level: 'warn',
    ...extra,
  })
}

/** Opens a stopped edge's PGlite directly (the agent must not be running on it). */
export async function openEdgeDb(dataDir: string): Promise<PGlite> {
  return PGlite.create(join(dataDir, 'pgdata'))
}
