/**
 * Configuration of the edge's alert rules and where their alerts go, as zod schemas to embed in
 * the edge config (file keys in snake_case, durations as `30s`/`5m` or milliseconds):
 *
 * ```yaml
 * alerts:
 *   sinks:
 *     ops:   { type: webhook, url: https://ops.example/hook, headers: { Authorization: Bearer x } }
 *     chat:  { type: slack, url: https://hooks.slack.com/services/T0/B0/XXXX }
 *     siem:  { type: syslog, host: siem.example, port: 6514, tls: { ca: /etc/fedgres/siem-ca.pem } }
 *   rules:
 *     - name: shell-in-pod
 *       when: { event: { ... } }            # the event matcher's spec, validated by edge-agent/rules
 *       severity: critical
 *       sinks: [ops, chat, siem]
 *       rate_limit: { max: 10, per: 1m }
 *     - name: exec-burst
 *       when: { rate: { event: { ... }, count: 100, window: 1m } }
 *       sinks: [chat]
 *     - name: source-down
 *       when: { status: { source_disconnected: { for: 2m } } }
 *       sinks: [ops]
 * ```
 */
import { z } from 'zod'
import { zDuration } from '../../common/config.js'

const sinkName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
const positiveDuration = zDuration.refine((ms) => ms > 0, 'must be more than 0')
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })

export const webhookSinkSchema = z.strictObject({
  type: z.literal('webhook'),
  url: httpUrl,
  headers: z.record(z.string(), z.string()).optional(),
  timeout: positiveDuration.default(10_000),
})

/** Slack's incoming webhooks; Mattermost, Rocket.Chat and Discord's `/slack` endpoints take the same body. */
export const slackSinkSchema = z.strictObject({
  type: z.literal('slack'),
  url: httpUrl,
  timeout: positiveDuration.default(10_000),
})

const syslogTlsSchema = z.strictObject({
  ca: z.string().optional().describe("PEM file of the collector's CA (default: Node's trusted CAs)"),
  cert: z.string().optional().describe('client certificate, when the collector authenticates senders'),
  key: z.string().optional(),
  server_name: z.string().optional(),
})

/** RFC 5424 messages over TCP (or TLS, RFC 5425), octet-counted (RFC 6587 §3.4.1). */
export const syslogSinkSchema = z.strictObject({
  type: z.literal('syslog'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** 13 "log audit" (RFC 5424 Table 1): policy findings are audit records, and 4/10 (auth, authpriv) are where login events go. */
  facility: z.number().int().min(0).max(23).default(13),
  app_name: z.string().regex(/^[\x21-\x7e]{1,48}$/, '1 to 48 printable US-ASCII characters (RFC 5424 APP-NAME)').default('fedgres-edge'),
  /** 32473 is the private enterprise number RFC 5424 reserves for examples; set your own PEN here. */
  sd_id: z
    .string()
    .regex(/^[\x21-\x7e]{1,32}$/, '1 to 32 printable US-ASCII characters')
    .refine((s) => /^[^@=\]"]+@\d+(\.\d+)*$/.test(s), 'must be name@<private enterprise number> (RFC 5424 §6.3.2)')
    .default('fedgres@32473'),
  /** RFC 5424 §6.4: a UTF-8 MSG starts with a BOM. Some collectors show it as junk; they can turn it off. */
  bom: z.boolean().default(true),
  tls: z.union([z.boolean(), syslogTlsSchema]).default(false),
  timeout: positiveDuration.default(10_000),
})

export const sinkConfigSchema = z.discriminatedUnion('type', [webhookSinkSchema, slackSinkSchema, syslogSinkSchema])

/** The event matcher's spec belongs to edge-agent/rules, which validates and compiles it. */
const eventSpec = z.record(z.string(), z.unknown())

const statusConditions = ['source_disconnected', 'disk_used_percent', 'spool_depth'] as const

export const statusConditionSchema = z
  .strictObject({
    /** A KubeArmor source has been disconnected for this long. */
    source_disconnected: z.strictObject({ for: zDuration.default(0) }).optional(),
    /** The filesystem holding the data dir is fuller than this (used / (used + available), as df shows it). */
    disk_used_percent: z.strictObject({ above: z.number().min(0).max(100) }).optional(),
    /** More events than this received but not yet committed. */
    spool_depth: z.strictObject({ above: z.number().int().nonnegative() }).optional(),
  })
  .refine((s) => statusConditions.filter((k) => s[k] !== undefined).length === 1, `name exactly one of ${statusConditions.join(', ')}`)

export const alertWhenSchema = z
  .strictObject({
    /** Every event the matcher accepts fires an alert. */
    event: eventSpec.optional(),
    /** More than `count` matching events within `window` fire one alert (see rate-condition.ts). */
    rate: z.strictObject({ event: eventSpec, count: z.number().int().min(1).max(100_000), window: positiveDuration }).optional(),
    status: statusConditionSchema.optional(),
  })
  .refine((w) => [w.event, w.rate, w.status].filter((c) => c !== undefined).length === 1, 'name exactly one of event, rate, status')

export const alertRuleSchema = z.strictObject({
  /** Used in metric labels, the syslog MSGID and the alerts' `rule`, so kept to an identifier. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'letters, digits, _ . : - only, at most 64'),
  when: alertWhenSchema,
  /** Free text shown with the alert; syslog maps it to a severity (syslog-message.ts). */
  severity: z.string().min(1).max(32).optional(),
  /** Names from `sinks`. With none the alert is still recorded (onFired) but sent nowhere. */
  sinks: z.array(sinkName).default([]),
  /** At most `max` alerts of this rule per `per`; more are suppressed and counted. */
  rate_limit: z.strictObject({ max: z.number().int().min(1), per: positiveDuration }).optional(),
})

export const alertDeliverySchema = z.strictObject({
  /** First retry after about this long; each failure doubles it (with jitter) up to backoff_cap. */
  backoff_base: positiveDuration.default(1000),
  backoff_cap: positiveDuration.default(300_000),
  /** Alerts waiting for delivery kept on disk; past this the oldest are dropped (and counted). */
  max_queued: z.number().int().min(1).default(10_000),
})

export const alertsConfigSchema = z
  .strictObject({
    sinks: z.record(sinkName, sinkConfigSchema).default({}),
    rules: z.array(alertRuleSchema).default([]),
    delivery: alertDeliverySchema.default({ backoff_base: 1000, backoff_cap: 300_000, max_queued: 10_000 }),
    /** How often status rules look at the agent. */
    status_interval: positiveDuration.default(5000),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>()
    cfg.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `rule '${rule.name}' is defined twice` })
      seen.add(rule.name)
      rule.sinks.forEach((s, j) => {
        if (!Object.hasOwn(cfg.sinks, s)) {
          const known = Object.keys(cfg.sinks)
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'sinks', j], message: `no sink named '${s}' (${known.length ? `sinks: ${known.join(', ')}` : 'no sinks are defined'})` })
        }
      })
    })
  })

export type WebhookSinkConfig = z.infer<typeof webhookSinkSchema>
export type SlackSinkConfig = z.infer<typeof slackSinkSchema>
export type SyslogSinkConfig = z.infer<typeof syslogSinkSchema>
export type SinkConfig = z.infer<typeof sinkConfigSchema>
export type StatusConditionConfig = z.infer<typeof statusConditionSchema>
export type AlertRuleConfig = z.infer<typeof alertRuleSchema>
export type AlertDeliveryConfig = z.infer<typeof alertDeliverySchema>
export type AlertsConfig = z.infer<typeof alertsConfigSchema>
