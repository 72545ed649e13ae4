/**
 * Kubernetes object validation with kubernetes-models (tommy351/kubernetes-models-ts): its model
 * classes carry validators compiled (ajv) from the Kubernetes OpenAPI definitions and ship in the
 * npm package, so validation works offline.
 *
 * Like the OpenAPI definitions it is built from (and kubeconform without -strict), it checks
 * types, required fields and enums, but does not refuse unknown field names: a misspelt optional
 * field passes here and is refused by the API server's strict field validation. The workload
 * tests check the fields that matter (probes, securityContext, resources) are present by name.
 */
import * as appsV1 from 'kubernetes-models/apps/v1'
import * as policyV1 from 'kubernetes-models/policy/v1'
import * as coreV1 from 'kubernetes-models/v1'

/** The API groups the manifests use; an object of any other group/kind is refused. */
const GROUPS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'policy/v1': policyV1,
}

interface ModelClass {
  readonly kind: string
  readonly apiVersion: string
  new (data: object): { validate(): void }
}

/** Throws with the schema's messages when `object` is not a valid Kubernetes object of its kind. */
export function validateKubernetesObject(object: Record<string, unknown>): void {
  const apiVersion = String(object.apiVersion)
  const kind = String(object.kind)
  const model = GROUPS[apiVersion]?.[kind] as ModelClass | undefined
  if (typeof model !== 'function' || model.kind !== kind || model.apiVersion !== apiVersion) {
    throw new Error(`no schema for apiVersion ${apiVersion} kind ${kind} (add its group to test/deploy/kubernetes-schema.ts)`)
  }
  new model(object).validate()
}
