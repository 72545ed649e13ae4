/** A configured sink as an AlertSink. */
import type { SinkConfig } from './alert-config.js'
import type { AlertSink } from './sink.js'
import { SlackSink } from './slack-sink.js'
import { SyslogSink } from './syslog-sink.js'
import { WebhookSink } from './webhook-sink.js'

export function createSink(name: string, config: SinkConfig): AlertSink {
  switch (config.type) {
    case 'webhook':
      return new WebhookSink(name, config)
    case 'slack':
      return new SlackSink(name, config)
    case 'syslog':
      return new SyslogSink(name, config)
    default:
      return assertNever(config)
  }
}

function assertNever(x: never): never {
  throw new Error(`unknown sink type ${(x as { type?: unknown }).type}`)
}
