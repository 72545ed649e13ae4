/** POSTs the alert object itself as JSON. Any 2xx means delivered. */
import { alertToJson, type FiredAlert } from './alert.js'
import type { WebhookSinkConfig } from './alert-config.js'
import { postJson } from './http-post.js'
import type { AlertSink } from './sink.js'

export class WebhookSink implements AlertSink {
  readonly type = 'webhook'
  constructor(
    readonly name: string,
    readonly config: Pick<WebhookSinkConfig, 'url' | 'headers' | 'timeout'>,
  ) {}

  send(alert: FiredAlert): Promise<void> {
    return postJson(this.config.url, alertToJson(alert), { headers: this.config.headers, timeoutMs: this.config.timeout })
  }

  close(): void {}
}
