/**
 * deploy/k8s, checked without a cluster: the prod overlay rendered (`kubectl kustomize` where a
 * kubectl ≥ 1.27 is on PATH, else test/helpers/kustomize-lite.ts; where kubectl is there, both
 * renderings must be the same objects), every object validated strictly against the Kubernetes
 * schemas (test/helpers/k8s-schema.ts), then what an operator relies on: both colours of both
 * services with probes, resources and secrets by reference, the Service selector that is the flip,
 * who may reach whom under the NetworkPolicies, disruption budgets, the migration Job.
 * Nothing here runs on a cluster.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { schemaProblems } from '../helpers/k8s-schema.js';
import { renderKustomization, type K8sObject } from '../helpers/kustomize-lite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const OVERLAY = path.join(root, 'deploy/k8s/overlays/prod');
const COLOURS = ['blue', 'green'] as const;
const SERVICES = ['web', 'transactions'] as const;

/** "v1.32.4" when a kubectl ≥ 1.27 answers, else why not. */
function kubectlVersion(): { ok: true; version: string } | { ok: false; why: string } {
  const result = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 20_000 });
  if (result.error || result.status !== 0) return { ok: false, why: 'no kubectl on PATH' };
  const client = (JSON.parse(result.stdout) as { clientVersion: { major: string; minor: string; gitVersion: string } })
    .clientVersion;
  const minor = Number.parseInt(client.minor, 10);
  if (client.major !== '1' || minor < 27) return { ok: false, why: `kubectl ${client.gitVersion} is older than 1.27` };
  return { ok: true, version: client.gitVersion };
}

const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byKey = (objects: K8sObject[]) => Object.fromEntries(objects.map((o) => [key(o), o]));

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A label selector against labels (matchLabels, and the In/NotIn/Exists operators). */
function selects(selector: Selector, labels: Labels): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every(({ key: k, operator, values = [] }) => {
    if (operator === 'In') return labels[k] !== undefined && values.includes(labels[k]);
    if (operator === 'NotIn') return labels[k] === undefined || !values.includes(labels[k]);
    if (operator === 'Exists') return k in labels;
    throw new Error(`operator ${operator} not handled by this test`);
  });
  return byLabel && byExpression;
}

describe('Kubernetes manifests (deploy/k8s, prod overlay), checked without a cluster', function () {
  this.timeout(60_000);
  let objects: K8sObject[] = [];
  let renderer = '';
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    expect(found, `${kind}/${name} rendered`).to.not.equal(undefined);
    return found!;
  };
  const podLabels = (workload: K8sObject) =>
    (workload as unknown as { spec: { template: { metadata: { labels: Labels } } } }).spec.template.metadata.labels;
  const podSpec = (workload: K8sObject) =>
    (workload as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

  before(() => {
    const lite = renderKustomization(OVERLAY);
    const kubectl = kubectlVersion();
    if (kubectl.ok) {
      const result = spawnSync('kubectl', ['kustomize', OVERLAY], { encoding: 'utf8', timeout: 30_000 });
      expect(result.status, result.stderr).to.equal(0);
      objects = parseAllDocuments(result.stdout).map((doc) => doc.toJS() as K8sObject);
      renderer = `kubectl kustomize (kubectl ${kubectl.version}); the tests' renderer gives the same objects`;
      expect(byKey(lite), "the tests' renderer against kubectl kustomize").to.deep.equal(byKey(objects));
    } else {
      objects = lite;
      renderer = `the tests' renderer (test/helpers/kustomize-lite.ts): ${kubectl.why}`;
    }
    console.log(`      [k8s] ${objects.length} objects rendered from deploy/k8s/overlays/prod by ${renderer}`);
  });

  it('validates every rendered object strictly against the Kubernetes schemas', async () => {
    expect(objects.length).to.be.at.least(20);
    const problems = (await Promise.all(objects.map(schemaProblems))).flat();
    expect(problems).to.deep.equal([]);
  });

  it('refuses a misspelled field, a field at the wrong level, a wrong type and a missing required field', async () => {
    const deployment = () => structuredClone(find('Deployment', 'web-blue')) as K8sObject & { spec: DeploymentSpec };
    const misspelled = deployment();
    (misspelled.spec.template.spec.containers[0] as unknown as Record<string, unknown>).readinessProb =
      misspelled.spec.template.spec.containers[0]!.readinessProbe;
    delete misspelled.spec.template.spec.containers[0]!.readinessProbe;
    expect(await schemaProblems(misspelled)).to.deep.equal([
      'Deployment/web-blue: unknown field spec.template.spec.containers[0].readinessProb',
    ]);
    const misplaced = deployment();
    (misplaced.spec as unknown as Record<string, unknown>).containers = misplaced.spec.template.spec.containers;
    expect(await schemaProblems(misplaced)).to.deep.equal(['Deployment/web-blue: unknown field spec.containers']);
    const wrongType = deployment();
    (wrongType.spec as unknown as Record<string, unknown>).replicas = 'two';
    expect((await schemaProblems(wrongType)).join('\n')).to.contain('spec/replicas must be integer');
    const missing = deployment();
    delete (missing.spec.template.spec.containers[0] as Partial<Container>).name;
    expect((await schemaProblems(missing)).join('\n')).to.contain('must have required property name');
  });

  it('puts every object in the namespace bank-prod, with the release images CI publishes', () => {
    for (const o of objects) expect(o.metadata.namespace, key(o)).to.equal('bank-prod');
    for (const service of SERVICES)
      for (const colour of COLOURS) {
        const [container] = podSpec(find('Deployment', `${service}-${colour}`)).containers;
        expect(container!.image).to.equal(`ghcr.io/owner/fintech-test-${service}:v1.0.0`);
      }
    const [migrate] = podSpec(find('Job', 'migrate')).containers;
    expect(migrate!.image).to.equal('ghcr.io/owner/fintech-test-transactions:v1.0.0');
  });

  it('runs web and transactions in both colours, 2 replicas each, with probes, resources and secrets by reference', () => {
    for (const service of SERVICES)
      for (const colour of COLOURS) {
        const deployment = find('Deployment', `${service}-${colour}`) as K8sObject & { spec: DeploymentSpec };
        expect(deployment.spec.replicas, `${service}-${colour}`).to.equal(2);
        expect(podLabels(deployment)).to.include({ 'app.kubernetes.io/name': service, color: colour });
        expect(deployment.spec.strategy.rollingUpdate, 'new pod first').to.deep.equal({
          maxSurge: 1,
          maxUnavailable: 0,
        });
        const [container] = deployment.spec.template.spec.containers;
        expect(container!.readinessProbe!.httpGet).to.deep.equal({ path: '/ready', port: 'http' });
        expect(container!.livenessProbe!.httpGet).to.deep.equal({ path: '/health', port: 'http' });
        expect(container!.resources.requests).to.have.keys('cpu', 'memory');
        expect(container!.resources.limits).to.have.keys('cpu', 'memory');
        expect(container!.envFrom).to.deep.equal([{ secretRef: { name: 'bank-secrets' } }]);
        const env = Object.fromEntries((container!.env ?? []).map((e) => [e.name, e.value]));
        expect(env.APP_COLOR).to.equal(colour);
        if (service === 'web') expect(env.TRANSACTIONS_URL).to.equal(`http://transactions-${colour}:5000`);
      }
  });

  it('commits no secret: no Secret object, no secret-looking value in the environment', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).to.deep.equal([]);
    for (const o of objects) {
      if (!('template' in ((o as { spec?: object }).spec ?? {}))) continue;
      for (const container of podSpec(o).containers)
        for (const e of container.env ?? []) {
          if (/PASSWORD|SECRET|DATABASE_URL|KEY/.test(e.name)) {
            expect(e.value, `${key(o)} ${e.name}`).to.equal(undefined);
            expect(e.valueFrom?.secretKeyRef?.name, `${key(o)} ${e.name}`).to.equal('bank-secrets');
          }
        }
    }
  });

  it('makes the Service web the flip: it selects the pods of blue only; web-<colour> reaches transactions-<colour>', () => {
    const web = find('Service', 'web') as K8sObject & { spec: { selector: Labels } };
    expect(web.spec.selector).to.deep.equal({ 'app.kubernetes.io/name': 'web', color: 'blue' });
    const pods = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    const selected = pods.filter((o) => selects({ matchLabels: web.spec.selector }, podLabels(o))).map(key);
    expect(selected).to.deep.equal(['Deployment/bank-prod/web-blue']);
    for (const colour of COLOURS) {
      const service = find('Service', `transactions-${colour}`) as K8sObject & { spec: { selector: Labels } };
      const reached = pods.filter((o) => selects({ matchLabels: service.spec.selector }, podLabels(o))).map(key);
      expect(reached).to.deep.equal([`Deployment/bank-prod/transactions-${colour}`]);
    }
    const ingress = find('Ingress', 'bank') as K8sObject & { spec: { rules: { http: { paths: unknown[] } }[] } };
    expect(ingress.spec.rules[0]!.http.paths[0]).to.deep.include({
      backend: { service: { name: 'web', port: { name: 'http' } } },
    });
  });

  it('lets only the ingress reach web, only web reach transactions (same colour), only the services reach PostgreSQL', () => {
    interface Peer {
      podSelector?: Selector;
      namespaceSelector?: Selector;
    }
    interface Policy {
      spec: { podSelector: Selector; policyTypes: string[]; ingress?: { from?: Peer[]; ports?: { port: number }[] }[] };
    }
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as Policy[];
    expect(
      policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress),
      'a default deny of ingress',
    ).to.equal(true);
    /** May a pod with `from` labels (in namespace `ns`, default: the bank's) open `port` on a pod with `to` labels? */
    const allowed = (from: Labels, to: Labels, port: number, ns = 'bank-prod') =>
      policies
        .filter((p) => p.spec.policyTypes.includes('Ingress') && selects(p.spec.podSelector, to))
        .some((p) =>
          (p.spec.ingress ?? []).some(
            (rule) =>
              (rule.ports ?? []).some((r) => r.port === port) &&
              (rule.from ?? []).some((peer) =>
                peer.namespaceSelector
                  ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': ns }) &&
                    (!peer.podSelector || selects(peer.podSelector, from))
                  : ns === 'bank-prod' && selects(peer.podSelector ?? {}, from),
              ),
          ),
        );
    const pod = (name: string, color?: string): Labels => ({
      'app.kubernetes.io/name': name,
      ...(color ? { color } : {}),
    });
    const postgres = podLabels(find('StatefulSet', 'db'));
    const migrate = podLabels(find('Job', 'migrate'));
    const table: [string, boolean][] = [
      ['ingress controller → web', allowed({}, pod('web', 'blue'), 5000, 'ingress-nginx')],
      ['ingress controller → transactions', allowed({}, pod('transactions', 'blue'), 5000, 'ingress-nginx')],
      ['ingress controller → postgres', allowed({}, postgres, 5432, 'ingress-nginx')],
      ['another pod of the namespace → web', allowed(pod('other'), pod('web', 'blue'), 5000)],
      ['web-blue → transactions-blue', allowed(pod('web', 'blue'), pod('transactions', 'blue'), 5000)],
      ['web-green → transactions-green', allowed(pod('web', 'green'), pod('transactions', 'green'), 5000)],
      ['web-blue → transactions-green', allowed(pod('web', 'blue'), pod('transactions', 'green'), 5000)],
      ['transactions → web', allowed(pod('transactions', 'blue'), pod('web', 'blue'), 5000)],
      ['another pod → transactions', allowed(pod('other'), pod('transactions', 'blue'), 5000)],
      ['web → postgres', allowed(pod('web', 'green'), postgres, 5432)],
      ['transactions → postgres', allowed(pod('transactions', 'blue'), postgres, 5432)],
      ['migrate Job → postgres', allowed(migrate, postgres, 5432)],
      ['another pod → postgres', allowed(pod('other'), postgres, 5432)],
    ];
    expect(Object.fromEntries(table)).to.deep.equal({
      'ingress controller → web': true,
      'ingress controller → transactions': false,
      'ingress controller → postgres': false,
      'another pod of the namespace → web': false,
      'web-blue → transactions-blue': true,
      'web-green → transactions-green': true,
      'web-blue → transactions-green': false,
      'transactions → web': false,
      'another pod → transactions': false,
      'web → postgres': true,
      'transactions → postgres': true,
      'migrate Job → postgres': true,
      'another pod → postgres': false,
    });
  });

  it('keeps a pod of each colour and service through a node drain (PodDisruptionBudgets)', () => {
    for (const service of SERVICES)
      for (const colour of COLOURS) {
        const pdb = find('PodDisruptionBudget', `${service}-${colour}`) as K8sObject & {
          spec: { maxUnavailable: number; selector: Selector };
        };
        const deployment = find('Deployment', `${service}-${colour}`) as K8sObject & { spec: DeploymentSpec };
        expect(selects(pdb.spec.selector, podLabels(deployment)), `${service}-${colour}`).to.equal(true);
        expect(deployment.spec.replicas - pdb.spec.maxUnavailable, 'pods left during a drain').to.be.at.least(1);
      }
  });

  it('runs the migration as a Job with the release transactions image, once, never restarted in place', () => {
    const job = find('Job', 'migrate') as K8sObject & {
      spec: { backoffLimit: number; template: { spec: PodSpec & { restartPolicy: string } } };
    };
    expect(job.spec.template.spec.restartPolicy).to.equal('Never');
    expect(job.spec.template.spec.containers[0]!.command).to.deep.equal([
      'node',
      'dist/services/jobs/src/cli.js',
      'migrate',
      'seed',
    ]);
    const db = find('StatefulSet', 'db') as K8sObject & { spec: { volumeClaimTemplates: unknown[] } };
    expect(db.spec.volumeClaimTemplates, 'PostgreSQL keeps its data on a volume').to.have.length(1);
  });

  it("the tests' renderer refuses a kustomize field it does not know", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'kustomize-lite-'));
    try {
      writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: []\nnamePrefix: prod-\n');
      expect(() => renderKustomization(dir)).to.throw(
        /field 'namePrefix' \(the tests' kustomize renderer does not know it/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: unknown[];
  readinessProbe?: { httpGet?: unknown };
  livenessProbe?: { httpGet?: unknown };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
}
interface DeploymentSpec {
  replicas: number;
  strategy: { rollingUpdate: unknown };
  template: { spec: PodSpec };
}
