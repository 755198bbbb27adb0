/**
 * Driving scripts/deploy_blue_green_local.sh from the e2e tests, and looking at the PROD stack it
 * manages (-p bank-prod) through the gateway and Docker, as an operator would.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, ROOT, runOk, type TempEnvFile } from './compose.js';
import { serviceContainers } from './containers.js';
import { http } from './http.js';
import { formatReport, LoadClient, type LoadReport } from './load-client.js';

export const DEPLOY = path.join(ROOT, 'scripts/deploy_blue_green_local.sh');
export const PROD_URL = 'http://localhost:5002';
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Colour = 'blue' | 'green';
export const other = (c: Colour): Colour => (c === 'blue' ? 'green' : 'blue');

export interface DeployResult {
  code: number;
  output: string;
  seconds: number;
  pid: number;
}

/**
 * Runs the deploy script with `base` then `env` over the test process's environment. `onOutput`
 * sees the output as it comes (to act at a given moment of the deploy).
 */
export function runDeploy(
  base: Record<string, string>,
  env: Record<string, string> = {},
  hooks: { onStart?: (pid: number) => void; onOutput?: (text: string) => void } = {},
): Promise<DeployResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('bash', [DEPLOY], {
      cwd: ROOT,
      env: { ...process.env, ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      hooks.onOutput?.(output);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    if (child.pid !== undefined) hooks.onStart?.(child.pid);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, output, seconds: (Date.now() - started) / 1000, pid: child.pid ?? 0 }),
    );
  });
}

/** The PROD stack as the deploy script leaves it. */
export class ProdView {
  constructor(readonly stack: ComposeStack) {}

  async gatewayExec(...args: string[]): Promise<string> {
    return runOk('docker', ['exec', await this.stack.containerId('gateway'), ...args]);
  }

  /** The gateway's upstream file, verbatim. */
  upstreamFile(): Promise<string> {
    return this.gatewayExec('cat', '/etc/nginx/upstream/active.conf');
  }

  async activeColour(): Promise<Colour> {
    const [, colour] = (await this.gatewayExec('set-upstream', '--current')).trim().split(' ');
    if (colour !== 'blue' && colour !== 'green') throw new Error(`unexpected active colour ${colour}`);
    return colour;
  }

  /** The colour that answers the public port (the app's own X-App-Color header). */
  async servingColour(): Promise<string> {
    const response = await http(`${PROD_URL}/health`);
    expect(response.status).to.equal(200);
    return String(response.headers['x-app-color']);
  }

  private ids(service: string, all = false): Promise<string[]> {
    return serviceContainers(this.stack.project, service, all);
  }

  async running(service: string): Promise<boolean> {
    return (await this.ids(service)).length > 0;
  }

  /** The image reference a service's container was created from ('' when it has none). */
  async imageOf(service: string): Promise<string> {
    const [id] = await this.ids(service, true);
    return id ? (await runOk('docker', ['inspect', '-f', '{{.Config.Image}}', id])).trim() : '';
  }
}

/**
 * The end of a PROD suite (its `after` hook): the figures it gathered printed under `title`, then
 * the stack and its volumes removed, its env file and its state directory deleted.
 */
export async function endProdSuite(
  title: string,
  figures: string[],
  leftovers: { stack: ComposeStack; envFile: TempEnvFile; stateDir: string },
): Promise<void> {
  console.log(`\n      ${title}:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
  await leftovers.stack.down(true);
  leftovers.envFile.cleanup();
  rmSync(leftovers.stateDir, { recursive: true, force: true });
}

/** Runs `action` while the load client sends continuous mixed traffic; returns both results. */
export async function underLoad<T>(
  label: string,
  figures: string[],
  action: () => Promise<T>,
): Promise<{ result: T; report: LoadReport }> {
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

/**
 * GETs a scenario may resend after nginx closed their idle keep-alive socket (load-client.ts): the
 * drain before each reload leaves a rare race (1 in 5,562 requests in one CI run), not more.
 */
const MAX_RESENT_GETS = 5;

/** What "no request failed" means for a report of the load client. */
export function expectNoFailure(report: LoadReport): void {
  const detail = `${formatReport('load', report)}\n${report.samples.join('\n')}`;
  expect(report.badResponses, detail).to.equal(0);
  expect(report.connectionErrors, detail).to.equal(0);
  expect(report.resets, detail).to.equal(0);
  // Without the drain, every reload would close each idle socket under its next request.
  expect(report.resent, detail).to.be.at.most(MAX_RESENT_GETS);
  expect(report.maxConcurrentSockets, detail).to.be.at.least(50);
  expect(report.requests, detail).to.be.greaterThan(500);
  expect(
    Object.keys(report.byStatus).every((s) => Number(s) >= 200 && Number(s) < 400),
    detail,
  ).to.equal(true);
}

/**
 * A PROD env file's variables with fresh secrets. Test-only hash cost: these suites check
 * flips, not password hashing; at the secure cost the load client's logins alone would take
 * most of the 2 CI cores while the flips run.
 */
export function prodTestEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const secret = () => randomBytes(32).toString('hex');
  const dbPassword = secret();
  return {
    POSTGRES_DB: 'bankdb',
    POSTGRES_USER: 'bank',
    POSTGRES_PASSWORD: dbPassword,
    DATABASE_URL: `postgresql://bank:${dbPassword}@db:5432/bankdb`,
    SECRET_KEY: secret(),
    SERVICE_SIGNING_SECRET: secret(),
    SERVICE_SIGNING_KEY_ID: 'k1',
    LOG_LEVEL: 'warn',
    SCRYPT_LOG_N: '12',
    SCRYPT_R: '8',
    SCRYPT_P: '1',
    ...overrides,
  };
}

/** git in `cwd` as a committer named e2e (scratch clones have no identity configured). */
export function git(cwd: string, ...args: string[]): string {
  const who = { NAME: 'e2e', EMAIL: 'e2e@localhost' };
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: who.NAME,
      GIT_AUTHOR_EMAIL: who.EMAIL,
      GIT_COMMITTER_NAME: who.NAME,
      GIT_COMMITTER_EMAIL: who.EMAIL,
    },
  }).trim();
}
