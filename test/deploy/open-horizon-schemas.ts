/**
 * JSON Schemas of the two Open Horizon files, written from the anax documentation and the Go
 * structs that `hzn` decodes them into (open-horizon/anax at 2f3fa5a5, 2026-07-20):
 *   service definition: docs/service_def.md, docs/deployment_string.md; common/service_file.go
 *     (ServiceFile), exchangecommon/service.go (UserInput), containermessage/models.go (Service);
 *   deployment policy:  docs/deployment_policy.md, docs/properties_and_constraints.md;
 *     businesspolicy/business_policy.go (BusinessPolicy, ServiceRef, WorkloadPriority, NodeHealth),
 *     policy/user_input.go, externalpolicy/property_list.go.
 * Go ignores unknown JSON fields; these schemas refuse them, so a misspelt field is caught here
 * instead of being silently dropped by hzn.
 */

/** GOARCH values (docs/service_def.md: "Valid values are those returned from the GOARCH constant"). */
const GOARCH = ['386', 'amd64', 'arm', 'arm64', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'ppc64', 'ppc64le', 'riscv64', 's390x']
/** "A three part, dotted decimal version string … The last two decimal parts are optional." */
const VERSION = '^[0-9]+(\\.[0-9]+){0,2}$'
const strings = { type: 'array', items: { type: 'string' } }

/** One container of `deployment.services` (docs/deployment_string.md, containermessage.Service). */
const container = {
  type: 'object',
  required: ['image'],
  additionalProperties: false,
  properties: {
    image: { type: 'string', minLength: 1 },
    variation_label: { type: 'string' },
    privileged: { type: 'boolean' },
    network: { type: 'string' },
    environment: strings,
    cap_add: strings,
    command: strings,
    devices: strings,
    binds: strings,
    tmpfs: { type: 'object', additionalProperties: { type: 'string' } },
    ports: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { HostPort: { type: 'string' }, HostIP: { type: 'string' } } } },
    ephemeral_ports: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { localhost_only: { type: 'boolean' }, port_and_protocol: { type: 'string' } } } },
    entrypoint: strings,
    max_memory_mb: { type: 'integer', minimum: 0 },
    max_cpus: { type: 'number', minimum: 0 },
    log_driver: { type: 'string' },
    secrets: { type: 'object', additionalProperties: { type: 'object', properties: { description: { type: 'string' } } } },
    security_opt: strings,
    pid: { type: 'string' },
    user: { type: 'string' },
    sysctls: { type: 'object', additionalProperties: { type: 'string' } },
    ipc: { enum: ['', 'none', 'private', 'shareable', 'host'] },
  },
}

export const deploymentSchema = {
  type: 'object',
  required: ['services'],
  additionalProperties: false,
  properties: { services: { type: 'object', minProperties: 1, additionalProperties: container } },
}

export const serviceDefinitionSchema = {
  type: 'object',
  required: ['label', 'url', 'version', 'arch', 'sharable'],
  // "This field MAY be omitted if clusterDeployment is provided" (and the other way round).
  anyOf: [{ required: ['deployment'] }, { required: ['clusterDeployment'] }],
  additionalProperties: false,
  properties: {
    org: { type: 'string' },
    label: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    documentation: { type: 'string' },
    public: { type: 'boolean' },
    url: { type: 'string', minLength: 1 },
    version: { type: 'string', pattern: VERSION },
    arch: { enum: GOARCH },
    sharable: { enum: ['singleton', 'multiple'] },
    matchHardware: { type: 'object' },
    requiredServices: {
      type: 'array',
      items: { type: 'object', required: ['url', 'org'], properties: { url: { type: 'string' }, org: { type: 'string' }, version: { type: 'string' }, versionRange: { type: 'string' }, arch: { type: 'string' } } },
    },
    userInput: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'type'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          label: { type: 'string' },
          type: { enum: ['string', 'int', 'float', 'boolean', 'list of strings'] },
          // "If the defaultValue property is present, it MUST be populated with a string value."
          defaultValue: { type: 'string' },
        },
      },
    },
    // hzn takes the object form; the Exchange and curl use it "stringified" (a JSON string).
    deployment: { oneOf: [deploymentSchema, { type: 'string', minLength: 2 }] },
    deploymentSignature: { type: 'string' },
    clusterDeployment: { oneOf: [{ type: 'object' }, { type: 'string' }] },
    clusterDeploymentSignature: { type: 'string' },
  },
}

const ints = { type: 'integer', minimum: 0 }

export const deploymentPolicySchema = {
  type: 'object',
  required: ['service'],
  additionalProperties: false,
  properties: {
    label: { type: 'string' },
    description: { type: 'string' },
    service: {
      type: 'object',
      // ServiceRef.Validate: "Name, or Org is empty string", "The serviceVersions array is empty".
      required: ['name', 'org', 'serviceVersions'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        org: { type: 'string', minLength: 1 },
        arch: { type: 'string' },
        clusterNamespace: { type: 'string' },
        serviceVersions: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['version'],
            additionalProperties: false,
            properties: {
              version: { type: 'string', pattern: VERSION },
              priority: {
                type: 'object',
                additionalProperties: false,
                properties: { priority_value: ints, retries: ints, retry_durations: ints, verified_durations: ints },
                // ServiceRef.Validate: retries and retry_durations go with a non-zero priority_value, and only with one.
                if: { required: ['priority_value'], properties: { priority_value: { type: 'integer', minimum: 1 } } },
                then: { required: ['retries', 'retry_durations'], properties: { retries: { type: 'integer', minimum: 1 }, retry_durations: { type: 'integer', minimum: 1 } } },
                else: { properties: { retries: { const: 0 }, retry_durations: { const: 0 }, verified_durations: { const: 0 } } },
              },
              upgradePolicy: { type: 'object' },
            },
          },
        },
        nodeHealth: { type: 'object', additionalProperties: false, properties: { missing_heartbeat_interval: ints, check_agreement_status: ints } },
      },
    },
    properties: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'value'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          value: { type: ['string', 'number', 'boolean'] },
          type: { enum: ['string', 'int', 'float', 'boolean', 'list of strings', 'version'] },
        },
      },
    },
    constraints: { type: 'array', items: { type: 'string', minLength: 1 } },
    userInput: {
      type: 'array',
      items: {
        type: 'object',
        required: ['serviceOrgid', 'serviceUrl', 'inputs'],
        additionalProperties: false,
        properties: {
          serviceOrgid: { type: 'string', minLength: 1 },
          serviceUrl: { type: 'string', minLength: 1 },
          serviceArch: { type: 'string' },
          serviceVersionRange: { type: 'string' },
          inputs: { type: 'array', items: { type: 'object', required: ['name', 'value'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1 }, value: {} } } },
        },
      },
    },
    secretBinding: { type: 'array', items: { type: 'object' } },
  },
}

/**
 * `hzn` reads these files through cliutils.ExpandEnv, which is Go's os.ExpandEnv: `$NAME` and
 * `${NAME}` become the variable's value (empty when unset), and `$` before a digit or one of
 * `*#$@!?-` takes that single character as the name. There is no escape for a literal `$`.
 */
export function expandEnvLikeGo(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$(?:\{([^}]*)\}|([*#$@!?0-9-])|([A-Za-z0-9_]+))/g, (_m, braced: string | undefined, special: string | undefined, plain: string | undefined) => env[braced ?? special ?? plain ?? ''] ?? '')
}
