/**
 * PROD blue/green through scripts/deploy_blue_green_local.sh, with continuous mixed traffic through
 * the public gateway (http://localhost:5002) for the whole length of each deploy: no request may
 * fail, no connection may be reset. Also the failure paths (a target that never gets ready, a
 * gateway config refused by `nginx -t`, a concurrent deploy), sessions across a flip and rollback.
 *
 * The stack is the real PROD project (`-p bank-prod`): the suite starts from `down -v` and removes
 * it at the end. Base images come from NODE_IMAGE / POSTGRES_IMAGE / NGINX_IMAGE like the other
 * e2e tests (scripts/e2e.sh exports them).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, ROOT, TempEnvFile, run, runOk } from './helpers/compose.js';
import { http } from './helpers/http.js';
import { formatReport, LoadClient, type LoadReport } from './helpers/load-client.js';
import { login } from './helpers/login.js';

const DEPLOY = path.join(ROOT, 'scripts/deploy_blue_green_local.sh');
const PROD_URL = 'http://localhost:5002';
/** While it exists the gateway answers "Connection: close" (see gateway/nginx.conf). */
const DRAIN_FLAG = '/etc/nginx/upstream/draining';
const secret = () => randomBytes(32).toString('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Colour = 'blue' | 'green';
const other = (c: Colour): Colour => (c === 'blue' ? 'green' : 'blue');

interface DeployResult {
  code: number;
  output: string;
  seconds: number;
  pid: number;
}

const dbPassword = secret();
const envVars: Record<string, string> = {
  POSTGRES_DB: 'bankdb',
  POSTGRES_USER: 'bank',
  POSTGRES_PASSWORD: dbPassword,
  DATABASE_URL: `postgresql://bank:${dbPassword}@db:5432/bankdb`,
  SECRET_KEY: secret(),
  SERVICE_SIGNING_SECRET: secret(),
  SERVICE_SIGNING_KEY_ID: 'k1',
  LOG_LEVEL: 'warn',
  // Test-only hash cost: this suite checks flips, not password hashing; at the secure cost the
  // load's logins alone would take most of the 2 CI cores while the flips run.
  SCRYPT_LOG_N: '12',
  SCRYPT_R: '8',
  SCRYPT_P: '1',
};
const envFile = new TempEnvFile(envVars);
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', { ENV_FILE: envFile.path });
const figures: string[] = [];

/** Runs the deploy script (TARGET=prod MODE=build unless overridden); output is kept for asserts. */
function deploy(env: Record<string, string> = {}, onStart?: (pid: number) => void): Promise<DeployResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('bash', [DEPLOY], {
      cwd: ROOT,
      env: { ...process.env, ENV_FILE: envFile.path, TARGET: 'prod', MODE: 'build', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    if (child.pid !== undefined) onStart?.(child.pid);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, output, seconds: (Date.now() - started) / 1000, pid: child.pid ?? 0 }),
    );
  });
}

async function deployOk(env: Record<string, string> = {}): Promise<DeployResult> {
  const result = await deploy(env);
  if (result.code !== 0) throw new Error(`deploy exited ${result.code}:\n${result.output}`);
  return result;
}

async function gatewayExec(...args: string[]): Promise<string> {
  const id = await prod.containerId('gateway');
  return runOk('docker', ['exec', id, ...args]);
}

/** The gateway's upstream file, verbatim. */
const upstreamFile = () => gatewayExec('cat', '/etc/nginx/upstream/active.conf');

async function activeColour(): Promise<Colour> {
  const [, colour] = (await gatewayExec('set-upstream', '--current')).trim().split(' ');
  if (colour !== 'blue' && colour !== 'green') throw new Error(`unexpected active colour ${colour}`);
  return colour;
}

/** The colour that answers the public port (the app's own X-App-Color header). */
async function servingColour(): Promise<string> {
  const response = await http(`${PROD_URL}/health`);
  expect(response.status).to.equal(200);
  return String(response.headers['x-app-color']);
}

async function running(service: string): Promise<boolean> {
  const ids = await runOk('docker', [
    'ps',
    '-q',
    '--filter',
    'label=com.docker.compose.project=bank-prod',
    '--filter',
    `label=com.docker.compose.service=${service}`,
  ]);
  return ids.trim() !== '';
}

/** Runs `action` while the load client sends continuous mixed traffic; returns both results. */
async function underLoad<T>(label: string, action: () => Promise<T>): Promise<{ result: T; report: LoadReport }> {
  const load = new LoadClient({ baseUrl: PROD_URL, connections: 50, loginWorkers: 2 });
  await load.start();
  let result: T;
  let report: LoadReport;
  try {
    await sleep(1000);
    result = await action();
    await sleep(1000);
  } finally {
    report = await load.stop();
  }
  const line = formatReport(label, report);
  console.log(`      ${line}`);
  figures.push(line);
  return { result, report };
}

function expectNoFailure(report: LoadReport): void {
  const detail = `${formatReport('load', report)}\n${report.samples.join('\n')}`;
  expect(report.badResponses, detail).to.equal(0);
  expect(report.connectionErrors, detail).to.equal(0);
  expect(report.resets, detail).to.equal(0);
  expect(report.maxConcurrentSockets, detail).to.be.at.least(50);
  expect(report.requests, detail).to.be.greaterThan(500);
  expect(
    Object.keys(report.byStatus).every((s) => Number(s) >= 200 && Number(s) < 400),
    detail,
  ).to.equal(true);
}

/** A flip: the deploy exits 0 and the other colour serves. */
async function flip(env: Record<string, string> = {}): Promise<DeployResult> {
  const before = await activeColour();
  const result = await deployOk(env);
  expect(await activeColour()).to.equal(other(before));
  expect(await servingColour()).to.equal(other(before));
  return result;
}

describe('PROD blue/green deploy (scripts/deploy_blue_green_local.sh)', function () {
  this.timeout(600_000);

  before(async function () {
    this.timeout(1_200_000);
    await prod.down(true);
    const first = await deployOk();
    expect(first.output).to.contain('cold start');
    expect(await activeColour()).to.equal('blue');
    expect(await servingColour()).to.equal('blue');
    figures.push(`[deploy] cold start (build + db + blue + gateway): ${first.seconds.toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(120_000);
    console.log(`\n      Blue/green figures:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
    await prod.down(true);
    envFile.cleanup();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
  });

  it('flips blue → green → blue under load with no failed request', async () => {
    const start = await activeColour();
    const { result, report } = await underLoad('blue → green → blue', async () => [await flip(), await flip()]);
    expect(await activeColour()).to.equal(start);
    expectNoFailure(report);
    expect(report.byColor.blue, 'blue answered').to.be.greaterThan(0);
    expect(report.byColor.green, 'green answered').to.be.greaterThan(0);
    figures.push(`[deploy] flips: ${result.map((r) => `${r.seconds.toFixed(1)} s`).join(', ')}`);
  });

  it('survives 10 consecutive flips under load with no failed request', async () => {
    const { result, report } = await underLoad('10 flips', async () => {
      const flips: DeployResult[] = [];
      for (let i = 0; i < 10; i += 1) flips.push(await flip());
      return flips;
    });
    expectNoFailure(report);
    const seconds = result.map((r) => r.seconds);
    figures.push(
      `[deploy] 10 flips: ${seconds.map((s) => s.toFixed(1)).join(', ')} s ` +
        `(mean ${(seconds.reduce((a, b) => a + b, 0) / seconds.length).toFixed(1)} s, max ${Math.max(...seconds).toFixed(1)} s)`,
    );
  });

  it('leaves the serving colour and the upstream untouched when the target never gets ready', async () => {
    const active = await activeColour();
    const fileBefore = await upstreamFile();
    const broken = new TempEnvFile({ ...envVars, LOG_LEVEL: 'shouting' });
    try {
      const { result, report } = await underLoad('target never ready', () =>
        deploy({ ENV_FILE: broken.path, HEALTH_TIMEOUT: '15' }),
      );
      expect(result.code, result.output).to.equal(1);
      expect(result.output).to.contain('never became ready');
      expect(result.seconds, 'exits within its timeout (+ start and stop)').to.be.below(60);
      expect(await upstreamFile()).to.equal(fileBefore);
      expect(await servingColour()).to.equal(active);
      expect(await running(`web_${other(active)}`), 'target stopped').to.equal(false);
      expect(await running(`transactions_${other(active)}`), 'target stopped').to.equal(false);
      expectNoFailure(report);
      figures.push(`[deploy] never-ready target refused in ${result.seconds.toFixed(1)} s (HEALTH_TIMEOUT=15)`);
    } finally {
      broken.cleanup();
    }
  });

  it('keeps the old upstream when nginx -t refuses the new gateway config', async () => {
    const active = await activeColour();
    const fileBefore = await upstreamFile();
    // A host nginx cannot resolve: the written config fails `nginx -t` ("host not found").
    const { result, report } = await underLoad('config refused by nginx -t', () =>
      deploy({ DEPLOY_TEST_UPSTREAM_HOST: 'web_nowhere' }),
    );
    expect(result.code, result.output).to.equal(1);
    expect(result.output).to.contain('nginx -t refused the new upstream');
    expect(result.output).to.contain('host not found');
    expect(await upstreamFile()).to.equal(fileBefore);
    expect(await servingColour()).to.equal(active);
    expect(await running(`web_${other(active)}`), 'target stopped').to.equal(false);
    const flag = await run('docker', ['exec', await prod.containerId('gateway'), 'test', '-e', DRAIN_FLAG]);
    expect(flag.code, 'drain flag removed').to.equal(1);
    expectNoFailure(report);
  });

  it('refuses a second deploy while one is running', async () => {
    const lockPid = path.join(ROOT, '.deploy/prod.lock.pid');
    let firstPid = 0;
    const first = deploy({}, (pid) => (firstPid = pid));
    const deadline = Date.now() + 30_000;
    const holds = () => {
      try {
        return readFileSync(lockPid, 'utf8').trim() === String(firstPid);
      } catch {
        return false;
      }
    };
    while (!holds() && Date.now() < deadline) await sleep(50);
    expect(holds(), 'first deploy holds the lock').to.equal(true);
    const second = await deploy();
    expect(second.code, second.output).to.equal(3);
    expect(second.output).to.match(/another deploy of prod is running .*; refused/);
    expect(second.seconds).to.be.below(5);
    const firstResult = await first;
    expect(firstResult.code, firstResult.output).to.equal(0);
  });

  it('keeps a user logged in across a flip (sessions live in the shared database)', async () => {
    const before = await activeColour();
    const jar = await login(PROD_URL, 'alice', 'password123');
    const dashboard = async () => http(`${PROD_URL}/dashboard`, { headers: { cookie: jar.header() } });
    const page1 = await dashboard();
    expect(page1.status).to.equal(200);
    expect(page1.body).to.contain('alice');
    expect(page1.headers['x-app-color']).to.equal(before);
    await flip();
    const page2 = await dashboard();
    expect(page2.status, 'still logged in after the flip').to.equal(200);
    expect(page2.body).to.contain('alice');
    expect(page2.headers['x-app-color']).to.equal(other(before));
  });

  it('rolls back to a still-running colour in under 10 s without failing a request', async () => {
    const original = await activeColour();
    await flip({ STOP_OLD_COLOR: 'false' });
    expect(await running(`web_${original}`), 'old colour kept running').to.equal(true);
    const { result, report } = await underLoad('rollback to running colour', () => deployOk({ ACTION: 'rollback' }));
    expect(await activeColour()).to.equal(original);
    expect(await servingColour()).to.equal(original);
    expectNoFailure(report);
    figures.push(`[deploy] rollback to a running colour: ${result.seconds.toFixed(1)} s`);
    expect(result.seconds, 'rollback duration').to.be.below(10);
  });

  it('rolls back to a stopped colour from its kept images (no build)', async () => {
    const active = await activeColour();
    expect(await running(`web_${other(active)}`), 'previous colour stopped').to.equal(false);
    const { result, report } = await underLoad('rollback to stopped colour', () => deployOk({ ACTION: 'rollback' }));
    expect(result.output).to.not.contain('building images');
    expect(await activeColour()).to.equal(other(active));
    expectNoFailure(report);
    figures.push(`[deploy] rollback to a stopped colour: ${result.seconds.toFixed(1)} s`);
  });

  it('refuses a rollback when there is no previous colour (exit 2, nothing touched)', async () => {
    const active = await activeColour();
    const fileBefore = await upstreamFile();
    await run('docker', ['image', 'rm', '-f', `bank-web:prod-${other(active)}`]);
    const result = await deploy({ ACTION: 'rollback' });
    expect(result.code, result.output).to.equal(2);
    expect(result.output.trim().split('\n')).to.have.length(1);
    expect(result.output).to.contain('no previous colour');
    expect(await upstreamFile()).to.equal(fileBefore);
    expect(await servingColour()).to.equal(active);
  });
});
