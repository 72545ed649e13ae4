/** The edge's alert delivery: rules' hits in, alerts out to webhooks, Slack and syslog. */
export { AlertEngine, type AlertEngineOptions, type FiredRecord } from './alert-engine.js'
export type { AlertKind, FiredAlert } from './alert.js'
export {
  alertDeliverySchema,
  alertRuleSchema,
  alertsConfigSchema,
  alertWhenSchema,
  sinkConfigSchema,
  slackSinkSchema,
  statusConditionSchema,
  syslogSinkSchema,
  webhookSinkSchema,
  type AlertDeliveryConfig,
  type AlertRuleConfig,
  type AlertsConfig,
  type SinkConfig,
  type SlackSinkConfig,
  type StatusConditionConfig,
  type SyslogSinkConfig,
  type WebhookSinkConfig,
} from './alert-config.js'
export { RateCondition } from './rate-condition.js'
export { diskUsage, type DiskUsage, type SourceStatus, type StatusSnapshot } from './status-watcher.js'
