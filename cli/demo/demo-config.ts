/** `fedgres demo`'s configuration: file keys in snake_case, FEDGRES_DEMO_* overrides, flags on top. */
import { z } from 'zod'
import { loadConfig, type LoadOptions } from '../../common/config.js'

export const demoConfigSchema = z.strictObject({
  /** Edge agents, each pulling from its own KubeArmor-protocol event source. */
  edges: z.number().int().min(1).max(16).default(3),
  /** Gateway port on 127.0.0.1. */
  port: z.number().int().min(0).max(65535).default(5432),
  data_dir: z.string().min(1).default('./.data/demo'),
  /** Events per second across the network, shared by the sources. */
  rate: z.number().int().min(0).max(100_000).default(200),
  log_level: z.enum(['error', 'warn', 'info', 'debug']).default('warn'),
})

export type DemoConfig = z.infer<typeof demoConfigSchema>

export function loadDemoConfig(opts: Omit<LoadOptions, 'envPrefix'> = {}): DemoConfig {
  return loadConfig(demoConfigSchema, { ...opts, envPrefix: 'FEDGRES_DEMO' })
}
