/**
 * The CD workflow through a self-hosted runner's lifecycle: the `run:` steps of
 * .github/workflows/cd-local.yml itself (read from the YAML by helpers/workflow-runner.ts), in
 * one workspace reused by every run and cleaned by each checkout (`git clean -ffdx`), with the
 * runner's HOME as the only place state can survive (~/.fintech-test, the default).
 *
 * Six runs, as GitHub would start them: CI passed on main (UAT), again on a newer commit (UAT),
 * a tag (UAT then PROD, cold start), a newer tag (UAT then a PROD flip), a dispatched PROD
 * rollback, the daily schedule (backups). Every run must succeed; the database passwords and SECRET_KEYs never change; a
 * session opened after the first PROD run still reaches /dashboard after the last run; users
 * and transfers created between runs are all still there.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import knex from 'knex';
import { ComposeStack, ROOT } from './helpers/compose.js';
import { http } from './helpers/http.js';
import { CookieJar, getPage, login, submitForm } from './helpers/login.js';
import { git } from './helpers/deploy.js';
import { WorkflowRunner, type RunReport, type WorkflowEvent } from './helpers/workflow-runner.js';

const UAT_URL = 'http://localhost:5001';
const PROD_URL = 'http://localhost:5002';
const REPOSITORY = 'fintech/fintech-test';

const scratch = mkdtempSync(path.join(tmpdir(), 'bank-e2e-runner-'));
const origin = path.join(scratch, 'origin'); // what GitHub holds
const runnerHome = path.join(scratch, 'home'); // the runner user's HOME
const stateDir = path.join(runnerHome, '.fintech-test');
const workspace = path.join(runnerHome, 'actions-runner/_work/fintech-test/fintech-test');

const gitOrigin = (...args: string[]) => git(origin, ...args);

/** A new commit on main (a change the images do not contain, like most commits of a doc). */
function pushCommit(message: string): string {
  writeFileSync(path.join(origin, 'CHANGES.txt'), `${message}\n`, { flag: 'a' });
  gitOrigin('add', 'CHANGES.txt');
  gitOrigin('commit', '--quiet', '-m', message);
  return gitOrigin('rev-parse', 'HEAD');
}

/** The event GitHub sends the CD workflow when CI passed on a push to main. */
const ciPassedOnMain = (sha: string): WorkflowEvent => ({
  name: 'workflow_run',
  ref: 'refs/heads/main',
  sha,
  payload: {
    workflow_run: {
      conclusion: 'success',
      event: 'push',
      head_branch: 'main',
      head_sha: sha,
      head_repository: { full_name: REPOSITORY },
    },
  },
});

function tagPush(tag: string): WorkflowEvent {
  gitOrigin('tag', tag);
  return { name: 'push', ref: `refs/tags/${tag}`, sha: gitOrigin('rev-parse', 'HEAD') };
}

const runnerEnv: Record<string, string> = {
  HOME: runnerHome,
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LANG: 'C.UTF-8',
  RUNNER_TEMP: scratch,
  // Where Docker Hub is unreachable the runner's .env points at local base images.
  ...Object.fromEntries(
    ['NODE_IMAGE', 'POSTGRES_IMAGE', 'NGINX_IMAGE', 'COMPOSE_CMD', 'DOCKER_HOST']
      .filter((key) => process.env[key])
      .map((key) => [key, process.env[key] as string]),
  ),
};

const runner = new WorkflowRunner(
  path.join(ROOT, '.github/workflows/cd-local.yml'),
  origin,
  workspace,
  runnerEnv,
  REPOSITORY,
);
// For `down` only: compose needs an env file to read, whatever its secrets.
const stackEnv = (target: string) => ({ ENV_FILE: path.join(ROOT, `compose/.env.${target}.example`) });
const uat = new ComposeStack('bank-uat', 'compose/docker-compose.uat.yml', stackEnv('uat'));
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', stackEnv('prod'), ['blue', 'green']);
const figures: string[] = [];

function runWorkflow(label: string, event: WorkflowEvent, expected: Record<string, string>): RunReport {
  const started = Date.now();
  const report = runner.run(event);
  figures.push(`[runner] ${label}: ${JSON.stringify(report.jobs)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(report.jobs, report.log).to.deep.equal(expected);
  return report;
}

function secrets(target: string): { POSTGRES_PASSWORD: string; SECRET_KEY: string; file: string } {
  const file = readFileSync(path.join(stateDir, `${target}.env`), 'utf8');
  const value = (key: string) =>
    file
      .split('\n')
      .find((line) => line.startsWith(`${key}=`))
      ?.slice(key.length + 1) ?? '';
  return { POSTGRES_PASSWORD: value('POSTGRES_PASSWORD'), SECRET_KEY: value('SECRET_KEY'), file };
}

async function countRows(port: number, password: string, sql: string, params: string[]): Promise<number> {
  const db = knex({
    compileSqlOnError: false,
    client: 'pg',
    connection: { host: '127.0.0.1', port, user: 'bank', password, database: 'bankdb' },
  });
  try {
    const { rows } = (await db.raw(sql, params)) as { rows: { n: string }[] };
    return Number(rows[0]?.n ?? 0);
  } finally {
    await db.destroy();
  }
}

/** Registers a user through the web pages (as a person would). */
async function register(baseUrl: string, username: string): Promise<void> {
  const answer = await submitForm(baseUrl, '/register', { username, password: `Pw-${username}-9` }, new CookieJar());
  expect(answer.status, answer.body.slice(0, 300)).to.be.oneOf([200, 302, 303]);
}

/** alice sends bob 1.00 EUR through the transfer page, with a label to find it again. */
async function transfer(jar: CookieJar, label: string): Promise<void> {
  const page = await getPage(PROD_URL, '/transfer', jar);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const from = /<select id="fromAccount"[^>]*>\s*<option value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const body = new URLSearchParams({
    _csrf: csrf,
    idempotencyKey: key,
    fromAccount: from,
    to: 'bob',
    amount: '1.00',
    label,
  });
  const answer = await http(`${PROD_URL}/transfer`, {
    method: 'POST',
    headers: { Cookie: jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  // A sent transfer redirects back to the form (Post/Redirect/Get); a refusal would re-render it (4xx).
  expect(answer.status, answer.body.slice(0, 300)).to.equal(303);
  expect(answer.headers.location).to.equal('/transfer');
}

describe('CD workflow through a self-hosted runner lifecycle (cd-local.yml run: steps)', function () {
  this.timeout(900_000);
  const suffix = randomBytes(3).toString('hex');
  const users = { uat: [] as string[], prod: [] as string[] };
  const labels: string[] = [];
  let prodSecrets: ReturnType<typeof secrets>;
  let uatSecrets: ReturnType<typeof secrets>;
  let firstSession: CookieJar;
  let firstColour = '';

  before(async function () {
    this.timeout(300_000);
    await Promise.all([uat.down(true), prod.down(true)]);
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, origin]);
    gitOrigin('checkout', '--quiet', '-B', 'main');
  });

  after(async function () {
    this.timeout(180_000);
    console.log(`\n      Runner lifecycle figures:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
    await Promise.all([uat.down(true), prod.down(true)]);
    rmSync(scratch, { recursive: true, force: true });
  });

  // The daily backup job runs on the schedule only.
  const UAT_ONLY = {
    'ci-passed': 'success',
    'deploy-uat': 'success',
    'deploy-prod': 'skipped',
    rollback: 'skipped',
    backup: 'skipped',
  };
  const UAT_AND_PROD = { ...UAT_ONLY, 'deploy-prod': 'success' };

  it('1. CI passed on main: deploys UAT and creates its state once, outside the workspace', async () => {
    runWorkflow('push main (UAT)', ciPassedOnMain(pushCommit('first push')), UAT_ONLY);
    uatSecrets = secrets('uat');
    expect(uatSecrets.POSTGRES_PASSWORD).to.match(/^[0-9a-f]{64}$/);
    expect(execFileSync('stat', ['-c', '%a', path.join(stateDir, 'uat.env')], { encoding: 'utf8' }).trim()).to.equal(
      '600',
    );
    users.uat.push(`lc_uat1_${suffix}`);
    await register(UAT_URL, users.uat[0]!);
  });

  it('2. CI passed on a newer commit: UAT again, same secrets, the user still there', async () => {
    writeFileSync(path.join(workspace, 'compose/.env.uat'), 'SECRET_KEY=left-behind\n'); // ignored file: cleaned
    runWorkflow('push main again (UAT)', ciPassedOnMain(pushCommit('second push')), UAT_ONLY);
    expect(secrets('uat').file).to.equal(uatSecrets.file);
    await login(UAT_URL, users.uat[0]!, `Pw-${users.uat[0]}-9`);
  });

  it('3. a tag: UAT, then PROD from a cold start', async () => {
    runWorkflow('tag v1.0.0 (UAT + PROD)', tagPush('v1.0.0'), UAT_AND_PROD);
    prodSecrets = secrets('prod');
    expect(prodSecrets.POSTGRES_PASSWORD).to.not.equal(uatSecrets.POSTGRES_PASSWORD);
    firstSession = await login(PROD_URL, 'alice', 'password123');
    firstColour = String((await http(`${PROD_URL}/health`)).headers['x-app-color']);
    users.prod.push(`lc_prod1_${suffix}`);
    await register(PROD_URL, users.prod[0]!);
    labels.push(`lifecycle ${suffix} 1`);
    await transfer(firstSession, labels[0]!);
  });

  it('4. a newer tag: UAT, then a PROD flip; the first session still works', async () => {
    pushCommit('third push');
    runWorkflow('tag v1.1.0 (UAT + PROD flip)', tagPush('v1.1.0'), UAT_AND_PROD);
    const health = await http(`${PROD_URL}/health`);
    expect(health.headers['x-app-color']).to.not.equal(firstColour);
    const dashboard = await getPage(PROD_URL, '/dashboard', firstSession);
    expect(dashboard.status).to.equal(200);
    users.prod.push(`lc_prod2_${suffix}`);
    await register(PROD_URL, users.prod[1]!);
    labels.push(`lifecycle ${suffix} 2`);
    await transfer(firstSession, labels[1]!);
  });

  it('5. a dispatched PROD rollback: back to the first release, nothing lost', async () => {
    const dispatch: WorkflowEvent = {
      name: 'workflow_dispatch',
      ref: 'refs/heads/main',
      sha: gitOrigin('rev-parse', 'HEAD'),
      inputs: {
        action: 'rollback',
        target: 'prod',
        mode: 'build',
        image_name: '',
        image_tag: '',
        run_smoke: true,
        prune_uat: false,
        image_tag_previous: '',
      },
    };
    runWorkflow('dispatch rollback prod', dispatch, {
      'ci-passed': 'success',
      'deploy-uat': 'skipped',
      'deploy-prod': 'skipped',
      rollback: 'success',
      backup: 'skipped',
    });
    expect((await http(`${PROD_URL}/health`)).headers['x-app-color']).to.equal(firstColour);

    expect(secrets('uat').file, 'UAT env file never rewritten').to.equal(uatSecrets.file);
    expect(secrets('prod').file, 'PROD env file never rewritten').to.equal(prodSecrets.file);
    const dashboard = await getPage(PROD_URL, '/dashboard', firstSession);
    expect(dashboard.status, 'the first PROD session still reaches /dashboard').to.equal(200);
    expect(dashboard.body).to.contain('alice');
    for (const user of users.prod) {
      expect(
        await countRows(5434, prodSecrets.POSTGRES_PASSWORD, 'SELECT count(*) AS n FROM users WHERE username = ?', [
          user,
        ]),
      ).to.equal(1);
    }
    for (const label of labels) {
      expect(
        await countRows(5434, prodSecrets.POSTGRES_PASSWORD, 'SELECT count(*) AS n FROM transfers WHERE label = ?', [
          label,
        ]),
      ).to.equal(1);
    }
    expect(
      await countRows(5433, uatSecrets.POSTGRES_PASSWORD, 'SELECT count(*) AS n FROM users WHERE username = ?', [
        users.uat[0]!,
      ]),
    ).to.equal(1);
  });

  it('6. the daily schedule: one more backup of PROD and of UAT, kept in the state directory', async () => {
    const backups = (target: string) => {
      const dir = path.join(stateDir, 'backups');
      return existsSync(dir)
        ? readdirSync(dir).filter((f) => f.startsWith(`bank-${target}-`) && f.endsWith('.tar.gz')).length
        : 0;
    };
    const before = { prod: backups('prod'), uat: backups('uat') };
    const schedule: WorkflowEvent = { name: 'schedule', ref: 'refs/heads/main', sha: gitOrigin('rev-parse', 'HEAD') };
    runWorkflow('daily schedule (backups)', schedule, {
      'ci-passed': 'success',
      'deploy-uat': 'skipped',
      'deploy-prod': 'skipped',
      rollback: 'skipped',
      backup: 'success',
    });
    expect({ prod: backups('prod'), uat: backups('uat') }).to.deep.equal({
      prod: before.prod + 1,
      uat: before.uat + 1,
    });
  });
});
