/**
 * The user-facing contract: one row per KubeArmor event, in `public.alerts` (from feeder.Alert)
 * and `public.logs` (from feeder.Log). Column names are snake_case so no BI user ever quotes one.
 *
 * Each column names the proto field it comes from (`proto`, a path into the JSON form that
 * `karmor logs --json` prints). Columns without `proto` are Fedgres's own: `time` (derived from
 * UpdatedTime, else Timestamp), `edge_id` and `tags`.
 * @see ../shared/docs/design.md, section Schema
 */

export type PgType = 'timestamptz' | 'text' | 'integer' | 'bigint' | 'jsonb' | 'text[]'

export interface ColumnSpec {
  readonly name: string
  readonly type: PgType
  readonly notNull?: boolean
  /** The proto field (JSON name) the value comes from; a dotted path for nested messages. */
  readonly proto?: string
  readonly comment: string
  /** The schema version that added the column (1 for the first release). */
  readonly since: number
}

const col = <N extends string, T extends PgType>(name: N, type: T, comment: string, proto?: string, notNull = false) =>
  ({ name, type, comment, proto, notNull, since: 1 }) as const

// Fields shared by Alert and Log (same name and meaning; the field numbers differ, see the .proto).
const head = [
  col('time', 'timestamptz', 'When the event happened: UpdatedTime (microseconds), else Timestamp (seconds)', undefined, true),
  col('edge_id', 'text', 'The Fedgres edge that stored the event (for replicas: their shard)', undefined, true),
  col('timestamp', 'bigint', 'Unix seconds, as KubeArmor sent them', 'Timestamp'),
  col('updated_time', 'text', 'The same instant as KubeArmor formats it (UTC, microseconds)', 'UpdatedTime'),
  col('cluster_name', 'text', 'Cluster name (KubeArmor -cluster flag)', 'ClusterName'),
  col('host_name', 'text', 'Node name', 'HostName'),
  col('namespace_name', 'text', 'Kubernetes namespace; NULL for host events', 'NamespaceName'),
  col('owner_ref', 'text', 'Workload kind owning the pod (Deployment, DaemonSet, ...)', 'Owner.Ref'),
  col('owner_name', 'text', 'Workload name owning the pod', 'Owner.Name'),
  col('owner_namespace', 'text', 'Workload namespace', 'Owner.Namespace'),
  col('pod_name', 'text', 'Pod name', 'PodName'),
  col('labels', 'text', 'Pod labels, comma-joined k=v', 'Labels'),
  col('container_id', 'text', 'Container ID (64 hex)', 'ContainerID'),
  col('container_name', 'text', 'Container name', 'ContainerName'),
  col('container_image', 'text', 'Container image with digest', 'ContainerImage'),
] as const

const processFields = [
  col('host_ppid', 'integer', 'Parent PID in the host namespace', 'HostPPID'),
  col('host_pid', 'integer', 'PID in the host namespace', 'HostPID'),
  col('ppid', 'integer', 'Parent PID inside the container', 'PPID'),
  col('pid', 'integer', 'PID inside the container', 'PID'),
  col('uid', 'integer', 'User ID', 'UID'),
  col('parent_process_name', 'text', 'Parent process path', 'ParentProcessName'),
  col('process_name', 'text', 'Process path', 'ProcessName'),
] as const

const hashesAndUser = [
  col('node_id', 'text', 'Machine id hash of the node', 'NodeID'),
  col('process_hash', 'text', 'IMA hash of the process', 'ProcessHash'),
  col('parent_hash', 'text', 'IMA hash of the parent process', 'ParentHash'),
  col('resource_hash', 'text', 'IMA hash of the resource', 'ResourceHash'),
  col('hash_algo', 'text', 'Hash algorithm of the IMA hashes', 'HashAlgo'),
  col('user_name', 'text', 'User name (host events)', 'UserName'),
] as const

const execEvent = [
  col('exec_id', 'text', 'Exec event ID', 'ExecEvent.ExecID'),
  col('executable_name', 'text', 'Executable name of the exec event', 'ExecEvent.ExecutableName'),
] as const

const tail = [col('tags', 'text[]', 'Tags applied by the edge: node tags and tagging rules')] as const

export const alertColumns = [
  ...head,
  ...processFields,
  col('policy_name', 'text', 'Matched policy, or DefaultPosture', 'PolicyName'),
  col('severity', 'integer', 'Policy severity 1-10; NULL when absent', 'Severity'),
  col('policy_tags', 'text[]', 'Policy tags (ATags, or Tags split on commas)', 'ATags'),
  col('message', 'text', 'Policy message', 'Message'),
  col('type', 'text', 'MatchedPolicy, MatchedHostPolicy, MatchedNetworkPolicy or SystemEvent', 'Type'),
  col('source', 'text', 'Command line of the acting process', 'Source'),
  col('operation', 'text', 'Process, File, Network, Capabilities, Syscall, ...', 'Operation'),
  col('resource', 'text', 'Path, command line or socket', 'Resource'),
  col('data', 'text', 'Raw event data (syscall, flags, ...)', 'Data'),
  col('event_data', 'jsonb', 'Parsed event data (string map)', 'EventData'),
  col('enforcer', 'text', 'AppArmor, BPFLSM, SELinux, eBPF Monitor, ...', 'Enforcer'),
  col('action', 'text', 'Allow, Audit, Block, Audit (Block), ...', 'Action'),
  col('result', 'text', 'Passed, Permission denied, ...', 'Result'),
  col('cwd', 'text', 'Working directory', 'Cwd'),
  col('tty', 'text', 'TTY of the process', 'TTY'),
  col('max_alerts_per_sec', 'integer', 'Throttle notices only: the alert rate limit', 'MaxAlertsPerSec'),
  col('dropping_alerts_interval', 'integer', 'Throttle notices only: seconds alerts are dropped', 'DroppingAlertsInterval'),
  ...execEvent,
  col('kubearmor_version', 'text', 'KubeArmor version that sent the alert', 'KubeArmorVersion'),
  ...hashesAndUser,
  ...tail,
] as const

export const logColumns = [
  ...head,
  ...processFields,
  col('type', 'text', 'ContainerLog or HostLog', 'Type'),
  col('source', 'text', 'Command line of the acting process', 'Source'),
  col('operation', 'text', 'Process, File, Network, Capabilities, Syscall, ...', 'Operation'),
  col('resource', 'text', 'Path, command line or socket', 'Resource'),
  col('data', 'text', 'Raw event data (syscall, flags, ...)', 'Data'),
  col('event_data', 'jsonb', 'Parsed event data (string map)', 'EventData'),
  col('result', 'text', 'Passed, Permission denied, ...', 'Result'),
  col('cwd', 'text', 'Working directory', 'Cwd'),
  col('tty', 'text', 'TTY of the process', 'TTY'),
  ...execEvent,
  ...hashesAndUser,
  ...tail,
] as const

export type EventTable = 'alerts' | 'logs'

export const eventColumns: Record<EventTable, readonly ColumnSpec[]> = { alerts: alertColumns, logs: logColumns }

export const eventTables: readonly EventTable[] = ['alerts', 'logs']
