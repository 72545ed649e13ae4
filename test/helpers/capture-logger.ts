/** A winston logger that keeps every entry, for tests that assert on what was logged. */
import { Writable } from 'node:stream'
import winston from 'winston'

export function captureLogger(): { log: winston.Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = []
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, cb) {
      entries.push(info)
      cb()
    },
  })
  return { log: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), entries }
}
