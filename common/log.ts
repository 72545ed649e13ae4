/**
 * The one winston logger. Every component takes a child of the root logger:
 * `rootLogger('edge-agent').child({ component: 'ingest' })`.
 * Logs are JSON lines on stderr, so stdout stays free for a CLI's own output.
 */
import winston from 'winston'

export type Logger = winston.Logger
export type Service = 'gateway' | 'edge-agent' | 'event-source' | 'fedgres' | 'test'

const roots = new Map<string, winston.Logger>()

export function rootLogger(service: Service, level = process.env.LOG_LEVEL ?? 'info'): winston.Logger {
  const key = `${service}:${level}`
  let root = roots.get(key)
  if (!root) {
    root = winston.createLogger({
      level,
      defaultMeta: { service },
      format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
      transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
    })
    roots.set(key, root)
  }
  return root
}

/** Error fields are not enumerable; spell them out for the JSON log line. */
export function errorMeta(e: unknown): { err: Record<string, unknown> } {
  if (e instanceof Error) {
    return { err: { name: e.name, message: e.message, code: (e as { code?: unknown }).code, stack: e.stack } }
  }
  return { err: { message: String(e) } }
}
