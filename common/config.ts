/**
 * Configuration files (YAML or JSON) with environment-variable overrides, validated at start.
 *
 * An override is `<PREFIX>_<KEY>` in upper case, with `__` between nested keys:
 * FEDGRES_EDGE_SERVE__PORT=5433 sets `serve.port`. Values are parsed as YAML scalars or flow
 * collections, so `[a, b]`, `true` and `5433` keep their types.
 * A bad file names the bad key, its problem and the file, and nothing starts.
 */
import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { z } from 'zod'

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

export function readConfigFile(path: string): Record<string, Json> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text)
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must hold a mapping of settings`)
  return parsed as Record<string, Json>
}

/** Applies `<prefix>_A__B=value` variables onto `base` (a copy is returned). */
export function applyEnvOverrides(base: Record<string, Json>, prefix: string, env: NodeJS.ProcessEnv = process.env): Record<string, Json> {
  const out = structuredClone(base)
  const head = `${prefix}_`
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(head) || raw === undefined) continue
    const path = name.slice(head.length).toLowerCase().split('__')
    let node: Record<string, Json> = out
    for (const key of path.slice(0, -1)) {
      const next = node[key]
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {}
      node = node[key] as Record<string, Json>
    }
    let value: Json
    try {
      value = YAML.parse(raw) as Json
    } catch {
      value = raw
    }
    node[path[path.length - 1]!] = value ?? raw
  }
  return out
}

/** Validates with a strict zod schema; unknown or malformed keys become one clear message. */
export function validateConfig<S extends z.ZodType>(schema: S, input: unknown, origin: string): z.infer<S> {
  const res = schema.safeParse(input)
  if (res.success) return res.data
  const lines = res.error.issues.map((issue) => {
    const at = issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k))
      return `unknown key ${keys.map((k) => `'${k}'`).join(', ')}`
    }
    return `'${at || '(root)'}': ${issue.message}`
  })
  throw new ConfigError(`invalid configuration (${origin}):\n  - ${lines.join('\n  - ')}`)
}

export interface LoadOptions {
  readonly file?: string
  readonly envPrefix: string
  readonly env?: NodeJS.ProcessEnv
  /** Settings given on the command line; they win over the file and the environment. */
  readonly overrides?: Record<string, Json>
}

export function loadConfig<S extends z.ZodType>(schema: S, opts: LoadOptions): z.infer<S> {
  const fromFile = opts.file ? readConfigFile(opts.file) : {}
  const merged = { ...applyEnvOverrides(fromFile, opts.envPrefix, opts.env), ...(opts.overrides ?? {}) }
  return validateConfig(schema, merged, opts.file ? `file ${opts.file} with ${opts.envPrefix}_* overrides` : `${opts.envPrefix}_* environment`)
}

/** `64MiB`, `2GiB`, `512kB`, or a plain byte count. */
export function parseBytes(s: string | number): number {
  if (typeof s === 'number') return s
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?\s*$/.exec(s)
  if (!m) throw new ConfigError(`not a size: ${s}`)
  const unit = m[2] ?? 'B'
  const mult: Record<string, number> = { B: 1, kB: 1e3, KB: 1024, KiB: 1024, MB: 1e6, MiB: 1 << 20, GB: 1e9, GiB: 1 << 30, TB: 1e12, TiB: 2 ** 40 }
  return Math.round(Number(m[1]) * mult[unit]!)
}

/** `500ms`, `30s`, `5m`, `7d`, or plain milliseconds. */
export function parseDuration(s: string | number): number {
  if (typeof s === 'number') return s
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(s)
  if (!m) throw new ConfigError(`not a duration: ${s}`)
  const mult: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
  return Math.round(Number(m[1]) * mult[m[2] ?? 'ms']!)
}

export const zBytes = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseBytes(v)
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message })
    return z.NEVER
  }
})

export const zDuration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v)
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message })
    return z.NEVER
  }
})
