/**
 * Our feeder.LogService definition, loaded from kubearmor.proto with field names kept as
 * declared, so a decoded event has the same keys as `karmor logs --json`.
 *
 * The edge agent decodes events with protobufjs's generated decoder into message objects and
 * reads them directly (absent fields read as the proto3 defaults), which is several times
 * cheaper per event than converting to plain objects first.
 */
import protobuf from 'protobufjs'
import type protoLoader from '@grpc/proto-loader'
import { sourceFile } from '../../common/paths.js'

export const PROTO_PATH = sourceFile('edge-agent', 'ingest', 'kubearmor.proto')

/** For @grpc/proto-loader users (the event source): same names, int64 as decimal strings. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: false,
  objects: false,
  oneofs: false,
}

export interface FeederTypes {
  readonly Alert: protobuf.Type
  readonly Log: protobuf.Type
  readonly NonceMessage: protobuf.Type
  readonly ReplyMessage: protobuf.Type
  readonly RequestMessage: protobuf.Type
}

let cached: FeederTypes | undefined

export function feederTypes(): FeederTypes {
  if (cached) return cached
  const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true })
  const t = (n: string) => root.lookupType(`feeder.${n}`)
  cached = { Alert: t('Alert'), Log: t('Log'), NonceMessage: t('NonceMessage'), ReplyMessage: t('ReplyMessage'), RequestMessage: t('RequestMessage') }
  return cached
}

export const METHODS = {
  HealthCheck: '/feeder.LogService/HealthCheck',
  WatchAlerts: '/feeder.LogService/WatchAlerts',
  WatchLogs: '/feeder.LogService/WatchLogs',
  WatchMessages: '/feeder.LogService/WatchMessages',
} as const
