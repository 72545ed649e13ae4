/**
 * Wire shapes of the Consul HTTP API subset the project uses, transcribed from the Go structs in
 * hashicorp/consul `api/{agent,health,catalog,kv}.go` (field names are the JSON names: those
 * structs have no json tags, so the Go field name is the wire name; optional fields are Go
 * `omitempty` ones, absent when empty). The project's Consul test server renders exactly these;
 * the contract suite checks both it and a real agent against the key lists below (a real agent
 * may send more fields, never fewer).
 */

export type HealthStatus = 'passing' | 'warning' | 'critical'

export interface ServiceAddress {
  Address: string
  Port: number
}

/** `api.Node`, as embedded in a health `ServiceEntry`. */
export interface NodeJson {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string>
  Meta: Record<string, string>
  CreateIndex: number
  ModifyIndex: number
}

/**
 * The `Service` of a health entry (`structs.NodeService` on the wire). `Meta` is null for a
 * service registered without Meta (a nil Go map); `TaggedAddresses` is omitted when empty (the
 * agent fills in `lan_ipv4`/`wan_ipv4` for a literal IP `Address`).
 */
export interface HealthServiceJson {
  ID: string
  Service: string
  Tags: string[]
  Address: string
  TaggedAddresses?: Record<string, ServiceAddress>
  Meta: Record<string, string> | null
  Port: number
  Weights: { Passing: number; Warning: number }
  EnableTagOverride: boolean
  Proxy: { Mode: string; MeshGateway: Record<string, unknown>; Expose: Record<string, unknown> }
  Connect: Record<string, unknown>
  CreateIndex: number
  ModifyIndex: number
}

/** `api.AgentService` from `/v1/agent/services` and `/v1/agent/service/:id`: Tags and Meta never null. */
export interface AgentServiceJson {
  ID: string
  Service: string
  Tags: string[]
  Meta: Record<string, string>
  Port: number
  Address: string
  TaggedAddresses?: Record<string, ServiceAddress>
  Weights: { Passing: number; Warning: number }
  EnableTagOverride: boolean
  /** Only on `/v1/agent/service/:id`, for `?hash=` blocking. */
  ContentHash?: string
  Datacenter: string
}

/** `api.HealthCheck`. Agent-local checks (`/v1/agent/checks`) carry indexes 0. */
export interface HealthCheckJson {
  Node: string
  CheckID: string
  Name: string
  Status: HealthStatus
  Notes: string
  Output: string
  ServiceID: string
  ServiceName: string
  ServiceTags: string[]
  Type: string
  Interval?: string
  Timeout?: string
  ExposedPort?: number
  Definition: Record<string, unknown>
  CreateIndex: number
  ModifyIndex: number
}

/** `api.ServiceEntry`: one element of `GET /v1/health/service/:name`. */
export interface ServiceEntryJson {
  Node: NodeJson
  Service: HealthServiceJson
  Checks: HealthCheckJson[]
}

/** `api.CatalogService`: one element of `GET /v1/catalog/service/:name` (no health). */
export interface CatalogServiceJson {
  ID: string
  Node: string
  Address: string
  Datacenter: string
  TaggedAddresses: Record<string, string>
  NodeMeta: Record<string, string>
  ServiceKind: string
  ServiceID: string
  ServiceName: string
  ServiceTags: string[]
  ServiceAddress: string
  ServiceTaggedAddresses?: Record<string, ServiceAddress>
  ServiceWeights: { Passing: number; Warning: number }
  ServiceMeta: Record<string, string> | null
  ServicePort: number
  ServiceEnableTagOverride: boolean
  ServiceProxy: { Mode: string; MeshGateway: Record<string, unknown>; Expose: Record<string, unknown> }
  ServiceConnect: Record<string, unknown>
  CreateIndex: number
  ModifyIndex: number
}

/** `api.KVPair`. `Value` is base64 (null when empty); `Session` is omitted when unlocked. */
export interface KvPairJson {
  LockIndex: number
  Key: string
  Flags: number
  Value: string | null
  Session?: string
  CreateIndex: number
  ModifyIndex: number
}

/** Keys every implementation must send; used by the contract suite's shape checks. */
export const requiredKeys = {
  node: ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'Meta', 'CreateIndex', 'ModifyIndex'],
  service: ['ID', 'Service', 'Tags', 'Address', 'Meta', 'Port', 'Weights', 'EnableTagOverride', 'CreateIndex', 'ModifyIndex'],
  check: ['Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Definition', 'CreateIndex', 'ModifyIndex'],
  catalogService: ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'NodeMeta', 'ServiceID', 'ServiceName', 'ServiceTags', 'ServiceAddress', 'ServiceMeta', 'ServicePort', 'ServiceEnableTagOverride', 'CreateIndex', 'ModifyIndex'],
  kv: ['LockIndex', 'Key', 'Flags', 'Value', 'CreateIndex', 'ModifyIndex'],
} as const
