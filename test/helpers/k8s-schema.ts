/**
 * Validates a Kubernetes object against the API's schemas, strictly, with two well-kept libraries:
 *   - kubernetes-models (models generated from Kubernetes' OpenAPI spec, validated with ajv):
 *     types, formats, enums and required fields;
 *   - @kubernetes/client-node (the Kubernetes project's JavaScript client): its generated models
 *     decode an object field by field, as the API server does, and drop what the API does not
 *     define. A field lost in that round trip is an unknown field (a misspelling, a field at the
 *     wrong level): refused, as `kubectl apply --validate=strict` would refuse it.
 */
// The generated models only (its index also loads an HTTP client this test does not need).
import * as clientModels from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { K8sObject } from './kustomize-lite.js';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths of `original` that are missing or different in `decoded`. */
function lostFields(original: Json, decoded: Json, at: string): string[] {
  if (Array.isArray(original)) {
    if (!Array.isArray(decoded)) return [at];
    return original.flatMap((item, i) => lostFields(item, decoded[i], `${at}[${i}]`));
  }
  if (isObject(original)) {
    if (!isObject(decoded)) return [at];
    return Object.entries(original).flatMap(([key, value]) =>
      key in decoded ? lostFields(value, decoded[key], `${at}.${key}`) : [`${at}.${key}`],
    );
  }
  return original === decoded ? [] : [at];
}

/** The client's model name for an object: V1Deployment for apps/v1 Deployment. */
function modelName(o: K8sObject): string {
  const version = o.apiVersion.split('/').at(-1) ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${o.kind}`;
}

/**
 * The problems of one object ([] when it is valid), each naming its path, e.g.
 * "Deployment/web-blue: unknown field spec.template.spec.containers[0].readinessProb".
 */
export async function schemaProblems(o: K8sObject): Promise<string[]> {
  const name = `${o.kind}/${o.metadata?.name ?? '?'}`;
  const problems: string[] = [];
  let Model: { new (data: unknown): { validate(): void } };
  try {
    const module = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<string, typeof Model>;
    Model = module[o.kind]!;
  } catch {
    return [`${name}: no schema for ${o.apiVersion} ${o.kind}`];
  }
  try {
    new Model(o).validate();
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
  }
  const type = modelName(o);
  if (!(type in clientModels)) return [...problems, `${name}: the client has no model ${type}`];
  const { ObjectSerializer } = clientModels;
  const decoded = ObjectSerializer.serialize(
    ObjectSerializer.deserialize(structuredClone(o), type, ''),
    type,
    '',
  ) as Json;
  for (const field of lostFields(o, decoded, '')) problems.push(`${name}: unknown field ${field.slice(1)}`);
  return problems;
}
