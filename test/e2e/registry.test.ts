/**
 * MODE=image end to end against a real registry: Debian's docker-registry (the CNCF distribution
 * registry) on 127.0.0.1:5005, started and stopped by this suite (scripts/ci/cd-local-registry.sh).
 * It holds what CI publishes, under the same names: <IMAGE_NAME>-{web,transactions,gateway}:<tag>,
 * for two commits (this one, and a second one made on top of it in a scratch clone), plus two
 * broken builds derived from the first: one whose web service dies at start, one whose web
 * service dies 3 s after it first serves a request through the gateway.
 *
 * Each pulled image is checked against the digest its build recorded (VERIFY_IMAGES=digests,
 * IMAGE_DIGESTS_FILE: what cd-publish-images.sh writes; GitHub attestations need GitHub's OIDC),
 * and a tag re-pushed with other content is refused before anything changes.
 *
 * UAT and PROD are deployed with MODE=image only (every image pulled from the registry, nothing
 * built), PROD under the continuous load client: a flip, a rollback with IMAGE_TAG_PREVIOUS, a
 * tag the registry does not have, a failed deploy then a rollback to the last good release, a
 * check that fails after the switch (switch back, exit 1), and that same failure when switching
 * back is impossible (exit 4).
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, ROOT, TempEnvFile, runOk } from './helpers/compose.js';
import {
  expectNoFailure,
  git,
  other,
  ProdView,
  prodTestEnv,
  runDeploy,
  underLoad as underLoadWith,
  type DeployResult,
} from './helpers/deploy.js';
import { http, waitForStatus } from './helpers/http.js';

const REGISTRY = '127.0.0.1:5005';
const IMAGE_NAME = `${REGISTRY}/fintech/fintech-test`;
const REGISTRY_SH = path.join(ROOT, 'scripts/ci/cd-local-registry.sh');
const UAT_URL = 'http://localhost:5001';
const SERVICES = ['web', 'transactions', 'gateway'] as const;

const scratch = mkdtempSync(path.join(tmpdir(), 'bank-e2e-registry-'));
const stateDir = path.join(scratch, 'state');
// "<image>:<tag> <image>@sha256:<digest>" per pushed image: what the deploys verify pulls against.
const digestsFile = path.join(scratch, 'published-images.txt');
const prodEnv = new TempEnvFile(prodTestEnv());
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', { ENV_FILE: prodEnv.path }, [
  'blue',
  'green',
]);
// The deploy creates UAT's env file in the state directory; compose only needs one to read for
// `ps` and `down`, whatever its secrets.
const uat = new ComposeStack('bank-uat', 'compose/docker-compose.uat.yml', {
  ENV_FILE: path.join(ROOT, 'compose/.env.uat.example'),
});
const view = new ProdView(prod);
const figures: string[] = [];
const tags = { first: '', second: '', diesAtStart: 'dies-at-start', diesWhenServed: 'dies-when-served' };
const TAMPERED = 'tampered';

const ref = (service: string, tag: string) => `${IMAGE_NAME}-${service}:${tag}`;

async function docker(...args: string[]): Promise<string> {
  return runOk('docker', args, { timeoutMs: 900_000 });
}

/** A broken build: the first release's web image with `dockerfileTail` applied, other services as they are. */
async function pushBrokenRelease(tag: string, dockerfileTail: string, files: Record<string, string> = {}) {
  const context = mkdtempSync(path.join(scratch, `build-${tag}-`));
  writeFileSync(path.join(context, 'Dockerfile'), `FROM ${ref('web', tags.first)}\n${dockerfileTail}\n`);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(context, name), content);
  await docker('build', '-q', '-t', ref('web', tag), context);
  for (const service of ['transactions', 'gateway']) await docker('tag', ref(service, tags.first), ref(service, tag));
}

/** Records the registry digest of an image pushed under `tag`, as the publishing build does. */
async function record(service: string, tag: string): Promise<string> {
  const digests = await docker(
    'image',
    'inspect',
    '-f',
    '{{range .RepoDigests}}{{println .}}{{end}}',
    ref(service, tag),
  );
  const digest = digests.split('\n').find((d) => d.startsWith(`${IMAGE_NAME}-${service}@sha256:`));
  if (!digest) throw new Error(`no registry digest for ${ref(service, tag)}:\n${digests}`);
  appendFileSync(digestsFile, `${ref(service, tag)} ${digest}\n`);
  return digest;
}

async function push(tag: string): Promise<void> {
  for (const service of SERVICES) {
    await docker('push', ref(service, tag));
    await record(service, tag);
  }
}

/** Off this host, so that the deploys must pull it. */
async function forget(tag: string): Promise<void> {
  for (const service of SERVICES) await docker('image', 'rm', ref(service, tag));
}

function deploy(env: Record<string, string>, onOutput?: (text: string) => void): Promise<DeployResult> {
  const base = {
    BANK_STATE_DIR: stateDir,
    MODE: 'image',
    IMAGE_NAME,
    RUN_SMOKE: 'false',
    VERIFY_IMAGES: 'digests',
    IMAGE_DIGESTS_FILE: digestsFile,
  };
  return runDeploy(base, env, { onOutput });
}

async function deployOk(env: Record<string, string>): Promise<DeployResult> {
  const result = await deploy(env);
  if (result.code !== 0) throw new Error(`deploy exited ${result.code}:\n${result.output}`);
  return result;
}

const prodDeploy = (env: Record<string, string>, onOutput?: (text: string) => void) =>
  deploy({ TARGET: 'prod', ENV_FILE: prodEnv.path, ...env }, onOutput);
const prodDeployOk = (env: Record<string, string>) => deployOk({ TARGET: 'prod', ENV_FILE: prodEnv.path, ...env });
const underLoad = <T>(label: string, action: () => Promise<T>) => underLoadWith(label, figures, action);

/** The deploy pulled every image of the release from the registry and built nothing. */
function expectPulled(result: DeployResult, tag: string, services: readonly string[]): void {
  for (const service of services) expect(result.output).to.contain(`docker pull ${ref(service, tag)}`);
  expect(result.output).to.not.contain('building ');
}

async function uatWebImage(): Promise<string> {
  return (await runOk('docker', ['inspect', '-f', '{{.Config.Image}}', await uat.containerId('web')])).trim();
}

describe('MODE=image from a real registry (127.0.0.1:5005)', function () {
  this.timeout(600_000);

  before(async function () {
    this.timeout(1_500_000);
    await Promise.all([uat.down(true), prod.down(true)]);
    await runOk('bash', [REGISTRY_SH, 'start']);

    // Two releases published as CI publishes them (same script, same names): this commit
    // (also as version v1.0.0), and a commit on top of it that changes what the web service serves.
    let published = 0;
    const publish = async (checkout: string, tagList: string) => {
      const file = path.join(scratch, `digests-${(published += 1)}.txt`);
      await runOk('bash', [path.join(checkout, 'scripts/ci/cd-publish-images.sh')], {
        env: { IMAGE_NAME, TAGS: tagList, DIGESTS_FILE: file },
        timeoutMs: 1_200_000,
      });
      appendFileSync(digestsFile, readFileSync(file, 'utf8'));
    };
    tags.first = git(ROOT, 'rev-parse', 'HEAD');
    let started = Date.now();
    await publish(ROOT, `${tags.first} v1.0.0`);
    figures.push(`[registry] first release built and pushed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const clone = path.join(scratch, 'clone');
    git(scratch, 'clone', '--quiet', '--no-hardlinks', ROOT, clone);
    const css = path.join(clone, 'services/web/static/style.css');
    writeFileSync(css, `${readFileSync(css, 'utf8')}\n/* release 2 */\n`);
    git(clone, 'commit', '--quiet', '-am', 'Second release');
    tags.second = git(clone, 'rev-parse', 'HEAD');
    started = Date.now();
    await publish(clone, tags.second);
    figures.push(`[registry] second release built and pushed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    await pushBrokenRelease(tags.diesAtStart, 'USER root\nRUN rm dist/services/web/src/render.js\nUSER node');
    await pushBrokenRelease(
      tags.diesWhenServed,
      'COPY dies-when-served.mjs /opt/dies-when-served.mjs\nENV NODE_OPTIONS=--import=/opt/dies-when-served.mjs',
      {
        'dies-when-served.mjs': `// Test build: the service exits 3 s after the first request that came through the gateway.
import http from 'node:http';
const emit = http.Server.prototype.emit;
let armed = false;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request' && !armed && args[0].headers['x-request-id']) {
    armed = true;
    setTimeout(() => { console.error('dies-when-served: exiting now'); process.exit(70); }, 3000);
  }
  return emit.call(this, event, ...args);
};
`,
      },
    );
    for (const tag of [tags.diesAtStart, tags.diesWhenServed]) await push(tag);
    // A tag whose recorded web digest is the first release's, then re-pushed with the second
    // release's web image: the registry now serves content that no build recorded for that tag.
    for (const service of SERVICES) await docker('tag', ref(service, tags.first), ref(service, TAMPERED));
    await push(TAMPERED);
    await docker('tag', ref('web', tags.second), ref('web', TAMPERED));
    await docker('push', ref('web', TAMPERED));
    for (const tag of [...Object.values(tags), 'v1.0.0', TAMPERED]) await forget(tag);
  });

  after(async function () {
    this.timeout(180_000);
    console.log(`\n      Registry figures:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
    try {
      await Promise.all([uat.down(true), prod.down(true)]);
    } finally {
      await runOk('bash', [REGISTRY_SH, 'stop']);
      prodEnv.cleanup();
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
  });

  describe('UAT', function () {
    it('deploys the second release, pulled from the registry', async () => {
      const result = await deployOk({ TARGET: 'uat', IMAGE_TAG: tags.second });
      expectPulled(result, tags.second, SERVICES);
      for (const service of SERVICES) {
        expect(result.output).to.contain(`verified: ${ref(service, tags.second)} is ${IMAGE_NAME}-${service}@sha256:`);
      }
      expect(result.output).to.contain(`as recorded by the build in ${digestsFile}`);
      await waitForStatus(`${UAT_URL}/health`);
      expect(await uatWebImage()).to.equal(ref('web', tags.second));
      figures.push(`[uat] MODE=image deploy (cold): ${result.seconds.toFixed(1)} s`);
    });

    it('refuses a tag the registry does not have: exit 2, one line, UAT untouched', async () => {
      const before = await uat.containerId('web');
      const result = await deploy({ TARGET: 'uat', IMAGE_TAG: 'v9.9.9' });
      expect(result.code, result.output).to.equal(2);
      const last = result.output.trim().split('\n').at(-1) ?? '';
      expect(last).to.match(
        /^deploy_blue_green_local: cannot pull 127\.0\.0\.1:5005\/fintech\/fintech-test-web:v9\.9\.9: .*nothing was changed$/,
      );
      expect(await uat.containerId('web')).to.equal(before);
      expect((await http(`${UAT_URL}/health`)).status).to.equal(200);
    });

    it('refuses an image whose digest is not the one its build recorded: exit 2, one line, UAT untouched', async () => {
      const before = await uat.containerId('web');
      const recorded = readFileSync(digestsFile, 'utf8')
        .split('\n')
        .find((line) => line.startsWith(`${ref('web', TAMPERED)} `))
        ?.split(' ')[1];
      const result = await deploy({ TARGET: 'uat', IMAGE_TAG: TAMPERED });
      expect(result.code, result.output).to.equal(2);
      const last = result.output.trim().split('\n').at(-1) ?? '';
      expect(last).to.match(
        /^deploy_blue_green_local: 127\.0\.0\.1:5005\/fintech\/fintech-test-web:tampered is \S+@sha256:[0-9a-f]{64}, but the build recorded /,
      );
      expect(last).to.contain(`but the build recorded ${recorded}; nothing was changed`);
      expect(await uat.containerId('web')).to.equal(before);
      expect(await uatWebImage()).to.equal(ref('web', tags.second));
      expect((await http(`${UAT_URL}/health`)).status).to.equal(200);
    });

    it('rolls back with IMAGE_TAG_PREVIOUS, pulling the first release', async () => {
      const result = await deployOk({ TARGET: 'uat', ACTION: 'rollback', IMAGE_TAG_PREVIOUS: tags.first });
      expectPulled(result, tags.first, SERVICES);
      expect(await uatWebImage()).to.equal(ref('web', tags.first));
      expect((await http(`${UAT_URL}/health`)).status).to.equal(200);
      figures.push(`[uat] MODE=image rollback: ${result.seconds.toFixed(1)} s`);
      await uat.down(true); // frees CPU for the PROD tests
    });
  });

  describe('PROD, under continuous load', function () {
    before(async function () {
      this.timeout(600_000);
      const result = await prodDeployOk({ IMAGE_TAG: tags.first });
      expect(result.output).to.contain('cold start');
      expectPulled(result, tags.first, SERVICES);
      expect(await view.imageOf('web_blue')).to.equal(ref('web', tags.first));
      figures.push(`[prod] MODE=image cold start: ${result.seconds.toFixed(1)} s`);
    });

    it('flips to the second release with no failed request', async () => {
      const active = await view.activeColour();
      const { result, report } = await underLoad('flip to the second release', () =>
        prodDeployOk({ IMAGE_TAG: tags.second, RUN_SMOKE: 'true' }),
      );
      expectPulled(result, tags.second, ['web', 'transactions']);
      expect(await view.servingColour()).to.equal(other(active));
      expect(await view.imageOf(`web_${other(active)}`)).to.equal(ref('web', tags.second));
      expectNoFailure(report);
      figures.push(`[prod] MODE=image flip: ${result.seconds.toFixed(1)} s`);
    });

    it('rolls back with IMAGE_TAG_PREVIOUS, pulling the first release again, with no failed request', async () => {
      const active = await view.activeColour();
      // Untag the first release here (its stopped containers keep the layers): the rollback
      // must get the tag from the registry.
      for (const service of SERVICES) await docker('image', 'rm', '-f', ref(service, tags.first));
      const { result, report } = await underLoad('rollback to the first release', () =>
        prodDeployOk({ ACTION: 'rollback', IMAGE_TAG_PREVIOUS: tags.first }),
      );
      expectPulled(result, tags.first, ['web', 'transactions']);
      expect(await view.servingColour()).to.equal(other(active));
      expect(await view.imageOf(`web_${other(active)}`)).to.equal(ref('web', tags.first));
      expectNoFailure(report);
      figures.push(`[prod] MODE=image rollback (IMAGE_TAG_PREVIOUS): ${result.seconds.toFixed(1)} s`);
    });

    it('refuses a tag the registry does not have: exit 2, one line, nothing changed', async () => {
      const before = await view.upstreamFile();
      const target = other(await view.activeColour());
      const targetImage = await view.imageOf(`web_${target}`);
      const result = await prodDeploy({ IMAGE_TAG: 'v9.9.9' });
      expect(result.code, result.output).to.equal(2);
      expect(result.output.trim().split('\n').at(-1)).to.match(
        /cannot pull .*fintech-test-web:v9\.9\.9: .*nothing was changed$/,
      );
      expect(await view.upstreamFile()).to.equal(before);
      expect(await view.imageOf(`web_${target}`)).to.equal(targetImage);
    });

    it('fails fast on a release whose web service dies at start; the rollback then lands on the last good release', async () => {
      const active = await view.activeColour();
      const target = other(active);
      // What the target colour served last: the second release (the flip above).
      expect(await view.imageOf(`web_${target}`)).to.equal(ref('web', tags.second));
      const { result, report } = await underLoad('broken release, then rollback', async () => {
        const failed = await prodDeploy({ IMAGE_TAG: tags.diesAtStart });
        const servingMeanwhile = await view.servingColour();
        const rollback = await prodDeployOk({ ACTION: 'rollback', MODE: 'build' });
        return { failed, servingMeanwhile, rollback };
      });
      const { failed, servingMeanwhile, rollback } = result;
      expect(failed.code, failed.output).to.equal(1);
      expect(/(?:transactions|web)_(blue|green) crashed: container \w+ is/.exec(failed.output)?.[1]).to.equal(target);
      expect(failed.output, 'its last log lines').to.contain('render.js');
      expect(failed.seconds, 'detected in seconds (HEALTH_TIMEOUT is 120 s)').to.be.below(40);
      expect(servingMeanwhile).to.equal(active);
      // The rollback restarted the target's last good release, not the broken containers.
      expect(rollback.output).to.contain(`target ${target} with ${ref('web', tags.second)}`);
      expect(await view.servingColour()).to.equal(target);
      expect(await view.imageOf(`web_${target}`)).to.equal(ref('web', tags.second));
      expectNoFailure(report);
      figures.push(
        `[prod] dies-at-start refused in ${failed.seconds.toFixed(1)} s, rollback to the last good release ${rollback.seconds.toFixed(1)} s`,
      );
    });

    it('switches back before exiting 1 when the checks fail after the switch', async () => {
      const active = await view.activeColour();
      const before = await view.upstreamFile();
      const result = await prodDeploy({ IMAGE_TAG: tags.diesWhenServed, RUN_SMOKE: 'true' });
      expect(result.code, result.output).to.equal(1);
      expect(result.output).to.contain(`gateway now routes to ${other(active)}`);
      // The smoke checks see the failure, or, when Docker restarts the process within a second
      // (too fast for a poll to meet the gap), the restart count after them does.
      expect(result.output).to.match(/smoke: (k6 failed|GET \/health answered)|web_\w+ crashed: container \w+/);
      expect(result.output).to.contain(`switching back to ${active}`);
      expect(result.output).to.contain(`back on ${active}, which serves`);
      expect(await view.upstreamFile()).to.equal(before);
      expect(await view.servingColour()).to.equal(active);
      expect(await view.running(`web_${other(active)}`), 'failed target stopped').to.equal(false);
      figures.push(`[prod] failure after the switch: switched back, exit 1 in ${result.seconds.toFixed(1)} s`);
    });

    it('exits 4 when switching back is impossible too (the old colour vanished during the checks)', async () => {
      const active = await view.activeColour();
      let stopped: Promise<string> | undefined;
      const result = await prodDeploy({ IMAGE_TAG: tags.diesWhenServed, RUN_SMOKE: 'true' }, (output) => {
        if (!stopped && output.includes('smoke:'))
          stopped = prod.containerId(`web_${active}`).then((id) => docker('stop', id));
      });
      await stopped;
      expect(result.code, result.output).to.equal(4);
      const last = result.output.trim().split('\n').at(-1) ?? '';
      expect(last).to.match(/FAILED: .*, and (switching back to \w+ failed|\w+ does not answer after switching back)/);
      expect(last).to.contain(active);
    });
  });
});
