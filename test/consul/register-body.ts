/**
 * Decoding and validation of `PUT /v1/agent/service/register` and `/v1/agent/check/register`
 * bodies, with Consul's rules and error texts (agent HTTP endpoint, `agent/structs`): field names
 * match case-insensitively and snake_case is accepted (Go's JSON decoder plus Consul's key
 * translation), Meta limits are `validateMetadata`'s, default check IDs are `service:<id>[:n]`.
 */
import { isIPv4, isIPv6 } from 'node:net'
import type { HealthStatus, ServiceAddress } from './api-types.js'
import { durationField, formatGoDuration } from './duration.js'
import { badRequest, isObject, type JsonObject } from './http-util.js'

export interface CheckDef {
  id: string
  name: string
  /** '' for a node-level check. */
  serviceId: string
  type: string
  ttlMs: number
  status: HealthStatus | undefined
  notes: string
  interval: string
  timeout: string
  /** As requested; the agent raises it to its minimum. */
  deregisterAfterMs: number
  definition: Record<string, unknown>
}

export interface ServiceDef {
  id: string
  name: string
  kind: string
  tags: string[]
  address: string
  port: number
  /** null when the body has no Meta: Consul keeps it nil, and health/catalog reads show `null`. */
  meta: Record<string, string> | null
  taggedAddresses: Record<string, ServiceAddress>
  weights: { Passing: number; Warning: number }
  enableTagOverride: boolean
  checks: CheckDef[]
}

const META_MAX_PAIRS = 64
const META_KEY_MAX = 128
const META_VALUE_MAX = 512
const META_RESERVED_PREFIX = 'consul-'
const statuses: readonly string[] = ['passing', 'warning', 'critical']

/** `structs.validateMetadata`, message for message; the caller prefixes `Invalid Service Meta: `. */
export function validateMeta(meta: Record<string, string>): string | undefined {
  const pairs = Object.entries(meta)
  if (pairs.length > META_MAX_PAIRS) return `Node metadata cannot contain more than ${META_MAX_PAIRS} key/value pairs`
  for (const [k, v] of pairs) {
    const why =
      k === '' ? 'Key cannot be blank'
      : !/^[a-zA-Z0-9_-]+$/.test(k) ? 'Key contains invalid characters'
      : k.length > META_KEY_MAX ? `Key is too long (limit: ${META_KEY_MAX} characters)`
      : k.startsWith(META_RESERVED_PREFIX) ? `Key prefix '${META_RESERVED_PREFIX}' is reserved for internal use`
      // Go's len(): bytes of UTF-8, not characters.
      : Buffer.byteLength(v, 'utf8') > META_VALUE_MAX ? `Value is too long (limit: ${META_VALUE_MAX} characters)`
      : undefined
    if (why) return `Couldn't load metadata pair ('${k}', '${v}'): ${why}`
  }
  return undefined
}

export function parseServiceDef(body: unknown): ServiceDef {
  const obj = decodeObject(body, 'structs.ServiceDefinition')
  const name = str(obj, 'Name')
  if (name === '') throw badRequest('Missing service name')
  const id = str(obj, 'ID') || name
  const meta = strMap(obj, 'Meta')
  const metaError = meta && validateMeta(meta)
  if (metaError) throw badRequest(`Invalid Service Meta: ${metaError}`)
  const address = str(obj, 'Address')
  const port = int(obj, 'Port')
  const taggedAddresses: Record<string, ServiceAddress> = {}
  const tagged = field(obj, 'TaggedAddresses')
  if (tagged !== undefined && tagged !== null) {
    if (!isObject(tagged)) throw decodeError('TaggedAddresses', tagged, 'map[string]structs.ServiceAddress')
    for (const [k, v] of Object.entries(tagged)) {
      if (!isObject(v)) throw decodeError(`TaggedAddresses.${k}`, v, 'structs.ServiceAddress')
      taggedAddresses[k] = { Address: str(v, 'Address'), Port: int(v, 'Port') }
    }
  }
  // The agent fills in lan/wan IPv4 or IPv6 tagged addresses from a literal IP Address.
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
  if (family) for (const t of [`lan_${family}`, `wan_${family}`]) taggedAddresses[t] ??= { Address: address, Port: port }
  const weightsRaw = field(obj, 'Weights')
  const weights = isObject(weightsRaw) ? { Passing: int(weightsRaw, 'Passing'), Warning: int(weightsRaw, 'Warning') } : { Passing: 1, Warning: 1 }
  const checkBodies: JsonObject[] = []
  const single = field(obj, 'Check')
  if (single !== undefined && single !== null) {
    if (!isObject(single)) throw decodeError('Check', single, 'structs.CheckType')
    if (Object.keys(single).length > 0) checkBodies.push(single)
  }
  const many = field(obj, 'Checks')
  if (many !== undefined && many !== null) {
    if (!Array.isArray(many) || !many.every(isObject)) throw decodeError('Checks', many, 'structs.CheckTypes')
    checkBodies.push(...many)
  }
  const checks = checkBodies.map((c, i) =>
    parseCheck(c, {
      id: `service:${id}${checkBodies.length > 1 ? `:${i + 1}` : ''}`,
      name: `Service '${name}' check`,
      serviceId: id,
    }),
  )
  return {
    id, name, kind: str(obj, 'Kind'), tags: strArray(obj, 'Tags'), address, port, meta, taggedAddresses, weights,
    enableTagOverride: bool(obj, 'EnableTagOverride'), checks,
  }
}

/** A `PUT /v1/agent/check/register` body: Name is required, CheckID defaults to it. */
export function parseCheckRegistration(body: unknown): CheckDef {
  const obj = decodeObject(body, 'structs.CheckDefinition')
  const name = str(obj, 'Name')
  if (name === '') throw badRequest('Missing check name')
  const id = str(obj, 'CheckID') || str(obj, 'ID') || name
  return parseCheck(obj, { id, name, serviceId: str(obj, 'ServiceID') })
}

function parseCheck(c: JsonObject, defaults: { id: string; name: string; serviceId: string }): CheckDef {
  const ttlMs = duration(c, 'TTL')
  const intervalMs = duration(c, 'Interval')
  const timeoutMs = duration(c, 'Timeout')
  const kinds = ['HTTP', 'TCP', 'UDP', 'GRPC', 'H2PING', 'OSService'].filter((k) => str(c, k) !== '')
  const args = field(c, 'Args') ?? field(c, 'ScriptArgs')
  if (Array.isArray(args) && args.length > 0) kinds.push('Script')
  if (str(c, 'DockerContainerID') !== '') kinds.push('Docker')
  const alias = str(c, 'AliasNode') !== '' || str(c, 'AliasService') !== ''
  const invalid = (why: string) => badRequest(`Invalid check: ${why}`)
  if (intervalMs > 0 && ttlMs > 0) throw invalid('Interval and TTL cannot both be specified')
  if (kinds.length > 0 && intervalMs <= 0) throw invalid('Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or GRPC checks')
  if (kinds.length > 0 && alias) throw invalid('Interval cannot be set for Alias checks')
  if (alias && ttlMs > 0) throw invalid('TTL must be not be set for Alias checks')
  if (kinds.length === 0 && !alias && ttlMs <= 0) throw invalid('TTL must be > 0 for TTL checks')
  const status = str(c, 'Status')
  if (status !== '' && !statuses.includes(status)) throw badRequest(`Status for checks must 'passing', 'warning', 'critical'`)
  const type = kinds.length > 0 ? kinds[0]!.toLowerCase() : alias ? 'alias' : 'ttl'
  const deregisterAfterMs = duration(c, 'DeregisterCriticalServiceAfter')
  const definition: Record<string, unknown> = {}
  for (const k of kinds) if (k !== 'Script' && k !== 'Docker') definition[k] = str(c, k)
  if (intervalMs > 0) definition['Interval'] = formatGoDuration(intervalMs)
  if (timeoutMs > 0) definition['Timeout'] = formatGoDuration(timeoutMs)
  if (deregisterAfterMs > 0) definition['DeregisterCriticalServiceAfter'] = formatGoDuration(deregisterAfterMs)
  return {
    id: str(c, 'CheckID') || defaults.id,
    name: str(c, 'Name') || defaults.name,
    serviceId: defaults.serviceId,
    type, ttlMs, status: status === '' ? undefined : (status as HealthStatus), notes: str(c, 'Notes'),
    interval: intervalMs > 0 ? formatGoDuration(intervalMs) : '',
    timeout: timeoutMs > 0 ? formatGoDuration(timeoutMs) : '',
    deregisterAfterMs, definition,
  }
}

// Field access: Go's decoder matches names case-insensitively and Consul translates snake_case.
const norm = (k: string) => k.replace(/_/g, '').toLowerCase()

export function field(obj: JsonObject, name: string): unknown {
  const want = norm(name)
  for (const k of Object.keys(obj)) if (norm(k) === want) return obj[k]
  return undefined
}

function decodeObject(body: unknown, goType: string): JsonObject {
  if (!isObject(body)) throw badRequest(`Request decode failed: json: cannot unmarshal ${jsonType(body)} into Go value of type ${goType}`)
  return body
}

const jsonType = (v: unknown) => (v === undefined ? 'EOF' : Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v)

const decodeError = (name: string, v: unknown, goType: string) =>
  badRequest(`Request decode failed: json: cannot unmarshal ${jsonType(v)} into Go struct field ${name} of type ${goType}`)

function str(obj: JsonObject, name: string): string {
  const v = field(obj, name)
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw decodeError(name, v, 'string')
  return v
}

function int(obj: JsonObject, name: string): number {
  const v = field(obj, name)
  if (v === undefined || v === null) return 0
  if (typeof v !== 'number' || !Number.isInteger(v)) throw decodeError(name, v, 'int')
  return v
}

function bool(obj: JsonObject, name: string): boolean {
  const v = field(obj, name)
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw decodeError(name, v, 'bool')
  return v
}

function strArray(obj: JsonObject, name: string): string[] {
  const v = field(obj, name)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw decodeError(name, v, '[]string')
  return v as string[]
}

function strMap(obj: JsonObject, name: string): Record<string, string> | null {
  const v = field(obj, name)
  if (v === undefined || v === null) return null
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) throw decodeError(name, v, 'map[string]string')
  return { ...(v as Record<string, string>) }
}

function duration(obj: JsonObject, name: string): number {
  const v = field(obj, name)
  if (v === undefined || v === null) return 0
  const ms = durationField(v)
  if (ms === undefined) throw badRequest(`Request decode failed: time: invalid duration ${JSON.stringify(v)}`)
  return ms
}
