/** `fedgres source`'s configuration: file keys in snake_case, FEDGRES_SOURCE_* overrides, flags on top. */
import { hostname } from 'node:os'
import { z } from 'zod'
import { loadConfig, type LoadOptions } from '../common/config.js'

export const sourceConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** gRPC port; 32767 is KubeArmor's. */
  port: z.number().int().min(0).max(65535).default(32767),
  /** Events per second, alerts and logs together. */
  rate: z.number().min(0).max(1_000_000).default(200),
  /** Node names the events come from. */
  hosts: z.array(z.string().min(1)).min(1).default(() => [process.env.HOSTNAME || hostname() || 'node-1']),
  cluster: z.string().min(1).default('default'),
  seed: z.number().int().default(1),
  /** exact encodes every event; fast re-stamps a pool of encoded events (benchmarks). */
  mode: z.enum(['exact', 'fast']).default('exact'),
  /** Stop generating after this many events. */
  limit: z.number().int().min(0).optional(),
  /** mTLS as KubeArmor serves it with tls.enabled: CA, server certificate and key files. */
  tls: z.strictObject({ ca: z.string(), cert: z.string(), key: z.string() }).optional(),
  metrics_port: z.number().int().min(0).max(65535).optional(),
  log_level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
})

export type SourceConfig = z.infer<typeof sourceConfigSchema>

export function loadSourceConfig(opts: Omit<LoadOptions, 'envPrefix'> = {}): SourceConfig {
  return loadConfig(sourceConfigSchema, { ...opts, envPrefix: 'FEDGRES_SOURCE' })
}
