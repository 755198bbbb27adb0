/**
 * A small renderer for the kustomizations of deploy/k8s, for machines without kubectl ≥ 1.27
 * (Debian's kubernetes-client is 1.20). It knows only the fields those files use — resources,
 * namespace, labels (metadata only), images (name, newName, newTag), patches (JSON 6902 ops add,
 * replace, remove, with a target by kind and name) — and refuses any other field, so that an
 * overlay that grows past it fails loudly instead of rendering wrong. Where kubectl is present,
 * test/scripts/k8s-manifests.test.ts checks that both renderings are the same objects.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
};

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { target: { kind?: string; name?: string }; patch: string }[];
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
/** Kinds without a namespace among those the renderer may meet. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass']);

type Json = unknown;
type JsonObject = Record<string, Json>;
const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function refuse(file: string, what: string): never {
  throw new Error(`${file}: ${what} (the tests' kustomize renderer does not know it; render with kubectl kustomize)`);
}

/** Renders the kustomization in `dir` (a directory holding kustomization.yaml). */
export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const k = parse(readFileSync(file, 'utf8')) as Kustomization & JsonObject;
  for (const field of Object.keys(k)) if (!KNOWN_FIELDS.has(field)) refuse(file, `field '${field}'`);

  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (statSync(target).isDirectory()) objects.push(...renderKustomization(target));
    else
      objects.push(
        ...parseAllDocuments(readFileSync(target, 'utf8'))
          .map((doc) => doc.toJS() as K8sObject | null)
          .filter((o): o is K8sObject => o !== null),
      );
  }
  for (const { target, patch } of k.patches ?? []) {
    const extra = Object.keys(target).filter((key) => key !== 'kind' && key !== 'name');
    if (extra.length > 0) refuse(file, `patch target field(s) ${extra.join(', ')}`);
    const ops = parse(patch) as Json;
    if (!Array.isArray(ops)) refuse(file, 'a strategic-merge patch (only JSON 6902 operation lists)');
    objects = objects.map((o) =>
      (target.kind === undefined || o.kind === target.kind) &&
      (target.name === undefined || o.metadata.name === target.name)
        ? (applyJsonPatch(o, ops as JsonObject[], file) as K8sObject)
        : o,
    );
  }
  if (k.namespace !== undefined) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const label of k.labels ?? []) {
    if (label.includeSelectors || label.includeTemplates) refuse(file, 'labels with includeSelectors/includeTemplates');
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...label.pairs };
  }
  for (const image of k.images ?? []) {
    const extra = Object.keys(image).filter((key) => !['name', 'newName', 'newTag'].includes(key));
    if (extra.length > 0) refuse(file, `image field(s) ${extra.join(', ')}`);
    for (const o of objects) for (const container of podContainers(o)) retag(container, image);
  }
  return objects;
}

/** The containers and init containers of a workload's pod template. */
function podContainers(o: K8sObject): JsonObject[] {
  const spec = o.spec as JsonObject | undefined;
  const template = (isObject(spec?.jobTemplate) ? (spec.jobTemplate.spec as JsonObject) : spec)?.template;
  const podSpec = isObject(template) ? template.spec : undefined;
  if (!isObject(podSpec)) return [];
  return [podSpec.containers, podSpec.initContainers].flatMap((list) =>
    Array.isArray(list) ? list.filter(isObject) : [],
  );
}

function retag(container: JsonObject, image: { name: string; newName?: string; newTag?: string }): void {
  if (typeof container.image !== 'string') return;
  // "registry:5000/repo:tag": the tag is after the last colon that follows the last slash.
  const colon = container.image.lastIndexOf(':');
  const hasTag = colon > container.image.lastIndexOf('/');
  const name = hasTag ? container.image.slice(0, colon) : container.image;
  const tag = hasTag ? container.image.slice(colon + 1) : undefined;
  if (name !== image.name) return;
  const newTag = image.newTag ?? tag;
  container.image = `${image.newName ?? name}${newTag === undefined ? '' : `:${newTag}`}`;
}

/** RFC 6902 add, replace and remove, on a copy. */
function applyJsonPatch(document: Json, ops: JsonObject[], file: string): Json {
  const result = structuredClone(document);
  for (const op of ops) {
    const pointer = String(op.path);
    const keys = pointer
      .split('/')
      .slice(1)
      .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) refuse(file, `patch path '${pointer}'`);
    let parent: Json = result;
    for (const key of keys) {
      parent = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined;
      if (parent === undefined) throw new Error(`${file}: patch path ${pointer} does not exist`);
    }
    if (op.op !== 'add' && op.op !== 'replace' && op.op !== 'remove') refuse(file, `patch op '${String(op.op)}'`);
    const missing = () => new Error(`${file}: patch path ${pointer} does not exist`);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(index, 0, op.value);
      else if (index >= parent.length) throw missing();
      else if (op.op === 'replace') parent[index] = op.value;
      else parent.splice(index, 1);
    } else if (isObject(parent)) {
      if (op.op === 'add') parent[last] = op.value;
      else if (!(last in parent)) throw missing();
      else if (op.op === 'replace') parent[last] = op.value;
      else delete parent[last];
    } else throw missing();
  }
  return result;
}
