/**
 * Slack incoming webhooks: a JSON body `{ text, blocks }`. `text` is the short line that
 * notifications and clients without Block Kit show; `blocks` is what Slack itself renders.
 * Slack answers 200 `ok`; 400/403/404/410 (invalid_payload, invalid_token, no_service,
 * channel_is_archived) are rejections; 429 carries Retry-After.
 * @see https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
 * @see https://docs.slack.dev/messaging/formatting-message-text#escaping
 */
import type { FiredAlert } from './alert.js'
import type { SlackSinkConfig } from './alert-config.js'
import { postJson } from './http-post.js'
import type { AlertSink } from './sink.js'

/** Slack reads `&`, `<` and `>` as markup (`<!channel>` would ping everyone); event data must not. */
export const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A section's text may hold 3000 characters. */
const SECTION_MAX = 3000

export interface SlackMessage {
  readonly text: string
  readonly blocks: readonly Record<string, unknown>[]
}

export function slackMessage(alert: FiredAlert): SlackMessage {
  const sev = alert.severity ? ` (${slackEscape(alert.severity)})` : ''
  const rule = slackEscape(alert.rule)
  const edge = slackEscape(alert.edgeId)
  const summary = slackEscape(alert.summary)
  const head = `*${rule}*${sev} on edge \`${edge}\`\n`
  return {
    text: `[fedgres] ${rule}${sev} on edge ${edge}: ${summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head + summary.slice(0, SECTION_MAX - head.length) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${alert.kind} alert fired ${alert.firedAt} · id ${alert.id}` }] },
    ],
  }
}

export class SlackSink implements AlertSink {
  readonly type = 'slack'
  constructor(
    readonly name: string,
    readonly config: Pick<SlackSinkConfig, 'url' | 'timeout'>,
  ) {}

  send(alert: FiredAlert): Promise<void> {
    return postJson(this.config.url, JSON.stringify(slackMessage(alert)), { timeoutMs: this.config.timeout })
  }

  close(): void {}
}
