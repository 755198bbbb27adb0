/**
 * scripts/stack-down.sh on the real PROD project (-p bank-prod), deployed by
 * scripts/deploy_blue_green_local.sh from a state directory of its own: a plain stop keeps the
 * database (a registered customer logs in again after a restart), and `--delete-data` without the
 * target's name typed back changes nothing. Also: /version reports the release (image tag) the
 * deploy started, on web and on transactions.
 *
 * The env file sits where the deploy and stack-down look for it (<BANK_STATE_DIR>/prod.env): no
 * ENV_FILE is given to either script. The suite starts from `down -v` and removes the stack at the end.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, ROOT, runOk, TempEnvFile } from './helpers/compose.js';
import { endProdSuite, PROD_URL, prodTestEnv, runDeploy, type DeployResult } from './helpers/deploy.js';
import { http } from './helpers/http.js';
import { CookieJar, login, submitForm } from './helpers/login.js';

const stateDir = mkdtempSync(path.join(tmpdir(), 'bank-e2e-stack-down-'));
const envVars = prodTestEnv();
writeFileSync(
  path.join(stateDir, 'prod.env'),
  Object.entries(envVars)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n') + '\n',
  { mode: 0o600 },
);
// The same variables for the suite's own `down -v` (ComposeStack reads ENV_FILE).
const envFile = new TempEnvFile(envVars);
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', { ENV_FILE: envFile.path }, [
  'blue',
  'green',
]);
const PGDATA_VOLUME = 'bank-prod_prod_pgdata';
const figures: string[] = [];

async function deployOk(tag: string): Promise<DeployResult> {
  const result = await runDeploy(
    { BANK_STATE_DIR: stateDir, TARGET: 'prod', MODE: 'build', RUN_SMOKE: 'false', IMAGE_TAG: tag },
    { ENV_FILE: '' },
  );
  if (result.code !== 0) throw new Error(`deploy exited ${result.code}:\n${result.output}`);
  return result;
}

/** scripts/stack-down.sh ARGS with `input` on its stdin (what a person would type). */
function stackDown(args: string[], input = ''): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/stack-down.sh', ...args], {
      cwd: ROOT,
      env: { ...process.env, BANK_STATE_DIR: stateDir, ENV_FILE: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(input);
  });
}

const projectContainers = async (all = false): Promise<string[]> =>
  (
    await runOk('docker', [
      'ps',
      ...(all ? ['-a'] : []),
      '-q',
      '--filter',
      'label=com.docker.compose.project=bank-prod',
    ])
  )
    .split('\n')
    .filter(Boolean);

const volumeExists = async (): Promise<boolean> =>
  (await runOk('docker', ['volume', 'ls', '-q', '--filter', `name=^${PGDATA_VOLUME}$`])).trim() === PGDATA_VOLUME;

describe('scripts/stack-down.sh on PROD: data kept, delete refused unless confirmed', function () {
  this.timeout(600_000);
  const username = `keep_${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('hex')}`;

  before(async function () {
    this.timeout(1_200_000);
    await prod.down(true);
    const first = await deployOk('e2e-release-1');
    figures.push(`[stack-down] cold start: ${first.seconds.toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(120_000);
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
    await endProdSuite('stack-down figures', figures, { stack: prod, envFile, stateDir });
  });

  it('reports the deployed release on /version, from web and from transactions', async () => {
    const web = await http(`${PROD_URL}/version`);
    expect(JSON.parse(web.body)).to.deep.equal({ service: 'web', version: 'e2e-release-1', color: 'blue' });
    const transactions = await runOk('docker', [
      'exec',
      await prod.containerId('web_blue'),
      'node',
      '-e',
      "fetch('http://transactions_blue:5000/version').then(async (r) => console.log(await r.text()))",
    ]);
    expect(JSON.parse(transactions)).to.deep.equal({
      service: 'transactions',
      version: 'e2e-release-1',
      color: 'blue',
    });
  });

  it('keeps the database across a plain stop and a restart', async () => {
    const registered = await submitForm(PROD_URL, '/register', { username, password }, new CookieJar());
    expect(registered.status, registered.body.slice(0, 300)).to.be.oneOf([200, 302, 303]);
    await login(PROD_URL, username, password);

    const stop = await stackDown(['prod']);
    expect(stop.code, stop.output).to.equal(0);
    expect(stop.output).to.match(/bank-prod stopped; volumes kept: .*bank-prod_prod_pgdata/);
    expect(await projectContainers(true), 'no bank-prod container left, either colour').to.deep.equal([]);
    expect(await volumeExists(), `${PGDATA_VOLUME} kept`).to.equal(true);

    const restart = await deployOk('e2e-release-2');
    expect(restart.output).to.contain('cold start');
    figures.push(`[stack-down] restart after a stop: ${restart.seconds.toFixed(1)} s`);
    await login(PROD_URL, username, password);
    const version = await http(`${PROD_URL}/version`);
    expect(JSON.parse(version.body)).to.include({ version: 'e2e-release-2' });
  });

  it('changes nothing on --delete-data without the target name typed back', async () => {
    const before = (await projectContainers()).sort();
    for (const typed of ['', 'yes\n', 'PROD\n']) {
      const refused = await stackDown(['prod', '--delete-data'], typed);
      expect(refused.code, refused.output).to.equal(1);
      expect(refused.output).to.match(/not confirmed .*nothing was changed/);
    }
    expect((await projectContainers()).sort(), 'the same containers still run').to.deep.equal(before);
    expect(await volumeExists(), `${PGDATA_VOLUME} kept`).to.equal(true);
    const health = await http(`${PROD_URL}/health`);
    expect(health.status).to.equal(200);
    await login(PROD_URL, username, password);
  });
});
