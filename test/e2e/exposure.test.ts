/**
 * What PROD exposes, on the real PROD project (-p bank-prod) deployed by
 * scripts/deploy_blue_green_local.sh with GATEWAY_TLS=on and the local CA:
 * - binds: the host's `ss -ltn` shows the gateway and the database on 127.0.0.1 only;
 * - secrets: no secret of the env file, nor the admin password, in `ps` during the whole deploy
 *   (and during a database password rotation) nor in the deploy's output;
 * - PROD's admin logs in with its random password only; cookies are Secure over HTTPS;
 * - /metrics refused through the gateway in every spelling; a TLS scan by sslscan (Debian);
 * - a flip over HTTPS under continuous load with no failed request;
 * - a bad certificate stops the deploy before the flip, naming the file;
 * - widening the gateway beyond loopback: refused while the demo customers have their public
 *   password, then HTTPS on 0.0.0.0 once PROD_DEMO_CUSTOMERS=false replaced it.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, run, runOk } from './helpers/compose.js';
import {
  expectNoFailure,
  other,
  ProdView,
  prodTestEnv,
  runDeploy,
  sleep,
  type DeployResult,
} from './helpers/deploy.js';
import { http, trustCertificateAuthority } from './helpers/http.js';
import { hostListeners } from './helpers/listeners.js';
import { formatReport, LoadClient } from './helpers/load-client.js';
import { CookieJar, getPage, login, submitForm } from './helpers/login.js';

const HTTPS_URL = 'https://localhost:5002';
const stateDir = mkdtempSync(path.join(tmpdir(), 'bank-e2e-exposure-'));
const envPath = path.join(stateDir, 'prod.env');
const envVars = prodTestEnv();
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', { ENV_FILE: envPath }, ['blue', 'green']);
const view = new ProdView(prod);
const figures: string[] = [];
const caPath = path.join(stateDir, 'tls/ca.pem');

/** The state directory's env file, as the first deploy would have made it (test-only hash cost). */
function writeEnvFile(vars: Record<string, string>): void {
  const text = Object.entries(vars).map(([key, value]) => `${key}=${value}\n`);
  writeFileSync(envPath, text.join(''), { mode: 0o600 });
}

/** The secrets of the state directory's env file, as it is now (after a rotation too). */
function envSecrets(): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const line of readFileSync(envPath, 'utf8').split('\n')) {
    const [key, ...rest] = line.split('=');
    if (key && ['POSTGRES_PASSWORD', 'SECRET_KEY', 'SERVICE_SIGNING_SECRET'].includes(key))
      secrets[key] = rest.join('=');
  }
  return secrets;
}

/** Every distinct command line `ps` shows while it runs, sampled every 50 ms. */
class PsWatcher {
  private readonly lines = new Set<string>();
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  samples = 0;

  start(): this {
    this.loop = (async () => {
      while (this.running) {
        const out = await new Promise<string>((resolve) =>
          execFile('ps', ['-eo', 'args', '--no-headers', '-ww'], { maxBuffer: 16 * 1024 * 1024 }, (_e, stdout) =>
            resolve(String(stdout)),
          ),
        );
        for (const line of out.split('\n')) if (line) this.lines.add(line);
        this.samples += 1;
        await sleep(50);
      }
    })();
    return this;
  }

  async stop(): Promise<string[]> {
    this.running = false;
    await this.loop;
    return [...this.lines];
  }
}

function expectNoSecretIn(where: string, text: string, secrets: Record<string, string>): void {
  for (const [name, value] of Object.entries(secrets)) {
    expect(value.length, `${name} is a real secret`).to.be.at.least(16);
    expect(text.includes(value), `${name} appears in ${where}`).to.equal(false);
  }
}

/** The colour that answers the public port over HTTPS (the app's X-App-Color header). */
async function servingColour(): Promise<string> {
  const response = await http(`${HTTPS_URL}/health`);
  expect(response.status).to.equal(200);
  return String(response.headers['x-app-color']);
}

function deploy(env: Record<string, string> = {}): Promise<DeployResult> {
  const base = {
    ENV_FILE: '',
    BANK_STATE_DIR: stateDir,
    TARGET: 'prod',
    MODE: 'build',
    RUN_SMOKE: 'false',
    GATEWAY_TLS: 'on',
    GATEWAY_BIND_ADDRESS: '',
    PROD_DEMO_CUSTOMERS: '',
  };
  return runDeploy(base, env);
}

/** curl through the gateway, the path sent as written (no client-side normalisation). */
async function curlStatus(url: string, extra: string[] = []): Promise<{ code: string; body: string }> {
  const out = await runOk('curl', ['-sS', '--path-as-is', '--cacert', caPath, ...extra, '-w', '\n%{http_code}', url]);
  const cut = out.lastIndexOf('\n');
  return { code: out.slice(cut + 1), body: out.slice(0, cut) };
}

async function underLoad<T>(label: string, action: () => Promise<T>) {
  const load = new LoadClient({
    baseUrl: HTTPS_URL,
    connections: 50,
    loginWorkers: 2,
    ca: readFileSync(caPath, 'utf8'),
  });
  await load.start();
  let result: T;
  try {
    await sleep(1000);
    result = await action();
    await sleep(1000);
  } catch (err) {
    await load.stop();
    throw err;
  }
  const report = await load.stop();
  const line = formatReport(label, report);
  console.log(`      ${line}`);
  figures.push(line);
  return { result, report };
}

describe('PROD exposure: loopback, HTTPS, no public password, no secret in ps or logs', function () {
  this.timeout(600_000);
  let coldStart: DeployResult;
  let psDuringColdStart: string[];

  before(async function () {
    this.timeout(900_000);
    // Compose reads the env file even for `down`: it must exist first.
    writeEnvFile(envVars);
    await prod.down(true);
    const ps = new PsWatcher().start();
    coldStart = await deploy();
    psDuringColdStart = await ps.stop();
    if (coldStart.code !== 0) throw new Error(`cold start exited ${coldStart.code}:\n${coldStart.output}`);
    trustCertificateAuthority(readFileSync(caPath, 'utf8'));
    figures.push(`[exposure] cold start over HTTPS: ${coldStart.seconds.toFixed(1)} s (${ps.samples} ps samples)`);
  });

  after(async function () {
    this.timeout(120_000);
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
    trustCertificateAuthority(undefined);
    console.log(`\n      Exposure figures:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
    await prod.down(true);
    rmSync(stateDir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
  });

  it('publishes the gateway and the database on 127.0.0.1 only (ss -ltn of the host)', async () => {
    for (const port of [5002, 5434]) {
      const addresses = await hostListeners(port);
      expect(addresses, `something listens on ${port}`).to.not.be.empty;
      for (const address of addresses) expect(address, `port ${port}`).to.equal(`127.0.0.1:${port}`);
    }
  });

  it('shows no secret in ps during the deploy nor in its output; says where the admin password is', () => {
    const adminFile = path.join(stateDir, 'prod-admin-password');
    expect(statSync(adminFile).mode & 0o777).to.equal(0o600);
    const secrets = { ...envSecrets(), ADMIN_PASSWORD: readFileSync(adminFile, 'utf8').trim() };
    expectNoSecretIn('ps during the deploy', psDuringColdStart.join('\n'), secrets);
    expectNoSecretIn('the deploy output', coldStart.output, secrets);
    expect(
      psDuringColdStart.some((line) => line.includes('deploy_blue_green_local')),
      'ps saw the deploy',
    ).to.equal(true);
    expect(coldStart.output).to.contain(`PROD admin: user 'admin', password in ${adminFile} (mode 600)`);
    expect(coldStart.output).to.contain(`trust ${caPath}`);
  });

  it('lets admin in with its random password only; the demo customers keep theirs on loopback', async () => {
    const adminPassword = readFileSync(path.join(stateDir, 'prod-admin-password'), 'utf8').trim();
    const jar = await login(HTTPS_URL, 'admin', adminPassword);
    expect((await getPage(HTTPS_URL, '/accounting', jar)).status).to.equal(200);
    const refused = await submitForm(
      HTTPS_URL,
      '/login',
      { username: 'admin', password: 'password123' },
      new CookieJar(),
    );
    expect(refused.status, 'admin with the published password').to.not.equal(302);
    await login(HTTPS_URL, 'alice', 'password123');
  });

  it('sends Secure cookies over HTTPS (bank.csrf HttpOnly too), HSTS, HTTP/2, and redirects plain HTTP', async () => {
    const form = await http(`${HTTPS_URL}/login`);
    const csrf = [form.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('bank.csrf='));
    expect(csrf, 'bank.csrf cookie').to.match(/; secure/i);
    expect(csrf).to.match(/; httponly/i);
    expect(form.headers['strict-transport-security']).to.equal('max-age=63072000');
    const jar = new CookieJar();
    const loggedIn = await submitForm(HTTPS_URL, '/login', { username: 'bob', password: 'password123' }, jar);
    expect(loggedIn.status).to.equal(302);
    const session = [loggedIn.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('bank.sid='));
    expect(session, 'session cookie').to.match(/; secure/i);
    expect(session).to.match(/; httponly/i);
    const h2 = await runOk('curl', [
      '-sS',
      '--cacert',
      caPath,
      '-o',
      '/dev/null',
      '-w',
      '%{http_version}',
      `${HTTPS_URL}/health`,
    ]);
    expect(h2).to.equal('2');
    const plain = await http('http://localhost:5002/login?next=x');
    expect(plain.status).to.equal(301);
    expect(plain.headers.location).to.equal('https://localhost:5002/login?next=x');
  });

  it('refuses /metrics through the gateway in every spelling', async () => {
    const spellings = [
      '/metrics',
      '/METRICS',
      '/Metrics/',
      '//metrics',
      '/./metrics',
      '/%6Detrics',
      '/metrics;x',
      '/metrics?x',
      '/metrics/../metrics',
    ];
    const answers: string[] = [];
    for (const spelling of spellings) {
      const { code, body } = await curlStatus(`${HTTPS_URL}${spelling}`);
      answers.push(`${spelling} ${code}`);
      expect(code, spelling).to.equal('404');
      expect(body, spelling).to.not.contain('# TYPE');
    }
    figures.push(`[exposure] /metrics through the gateway: ${answers.join(', ')}`);
  });

  it('passes a TLS scan by sslscan: no protocol below TLS 1.2, no cipher without forward secrecy', async () => {
    const xml = path.join(stateDir, 'sslscan.xml');
    const started = Date.now();
    const scan = await run('bash', ['scripts/ci/tls-scan.sh', 'localhost:5002', xml], { timeoutMs: 300_000 });
    console.log(scan.stdout.replace(/^/gm, '        '));
    expect(scan.code, scan.stderr).to.equal(0);
    const report = readFileSync(xml, 'utf8');
    const enabled = [...report.matchAll(/<protocol type="(\w+)" version="([\d.]+)" enabled="1"/g)].map(
      (m) => `${m[1]}${m[2]}`,
    );
    expect(enabled.sort()).to.deep.equal(['tls1.2', 'tls1.3']);
    const ciphers = [
      ...report.matchAll(/<cipher status="(?:accepted|preferred)" sslversion="([^"]+)"[^>]* cipher="([^"]+)"/g),
    ];
    expect(ciphers.length).to.be.greaterThan(0);
    for (const [, version, cipher] of ciphers) {
      if (version !== 'TLSv1.3') expect(cipher, `${version} ${cipher}`).to.match(/^ECDHE-.*(GCM|CHACHA20-POLY1305)/);
    }
    const verdict = scan.stdout.split('\n').find((l) => l.startsWith('tls-scan:')) ?? '';
    figures.push(`[exposure] ${verdict} (${((Date.now() - started) / 1000).toFixed(1)} s with the install)`);
  });

  it('stops before the flip on a bad certificate, naming the file; the serving colour stays', async () => {
    const active = await view.activeColour();
    const upstream = await view.upstreamFile();
    const dir = path.join(stateDir, 'bad');
    await runOk('mkdir', ['-p', dir]);
    await runOk('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${dir}/a-key.pem`,
      '-out',
      `${dir}/a.pem`,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
    ]);
    await runOk('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      `${dir}/b-key.pem`,
    ]);
    chmodSync(`${dir}/b-key.pem`, 0o600);
    const cases: Array<[Record<string, string>, string]> = [
      [
        { GATEWAY_TLS_CERT: `${dir}/a.pem`, GATEWAY_TLS_KEY: `${dir}/b-key.pem` },
        `${dir}/b-key.pem does not match the certificate ${dir}/a.pem`,
      ],
      [
        { GATEWAY_TLS_CERT: `${dir}/missing.pem`, GATEWAY_TLS_KEY: `${dir}/a-key.pem` },
        `${dir}/missing.pem does not exist`,
      ],
    ];
    for (const [env, message] of cases) {
      const result = await deploy(env);
      expect(result.code, result.output).to.equal(2);
      const last = result.output.trim().split('\n').at(-1);
      expect(last).to.contain(message);
      expect(result.output).to.not.contain('building');
      expect(await view.upstreamFile()).to.equal(upstream);
      expect(await servingColour()).to.equal(active);
    }
  });

  it('flips over HTTPS under continuous load with no failed request', async () => {
    const before = await view.activeColour();
    const { result, report } = await underLoad('HTTPS flip', () => deploy());
    expect(result.code, result.output).to.equal(0);
    expect(await view.activeColour()).to.equal(other(before));
    expectNoFailure(report);
    expect(report.byColor[before], `${before} answered`).to.be.greaterThan(0);
    expect(report.byColor[other(before)], `${other(before)} answered`).to.be.greaterThan(0);
    figures.push(`[exposure] HTTPS flip ${before} → ${other(before)}: ${result.seconds.toFixed(1)} s`);
  });

  it('rotates the database password through stdin (nothing in ps), then widens the gateway: refused while demo customers are public, HTTPS on 0.0.0.0 once they are replaced', async () => {
    const oldSecrets = envSecrets();
    const ps = new PsWatcher().start();
    const rotate = await run('bash', ['scripts/ci/prepare-env.sh', '--rotate', 'POSTGRES_PASSWORD', 'prod'], {
      env: { BANK_STATE_DIR: stateDir },
    });
    const psLines = (await ps.stop()).join('\n');
    expect(rotate.code, rotate.stderr).to.equal(0);
    const newSecrets = envSecrets();
    expect(newSecrets.POSTGRES_PASSWORD).to.not.equal(oldSecrets.POSTGRES_PASSWORD);
    expectNoSecretIn('ps during the rotation', psLines, {
      OLD: oldSecrets.POSTGRES_PASSWORD!,
      NEW: newSecrets.POSTGRES_PASSWORD!,
    });

    const active = await view.activeColour();
    const refused = await deploy({ GATEWAY_TLS: '', GATEWAY_BIND_ADDRESS: '0.0.0.0' });
    expect(refused.code, refused.output).to.equal(1);
    expect(refused.output).to.contain(
      'refused: the demo customers alice, bob, charlie still log in with the published password',
    );
    expect(refused.output).to.contain('set PROD_DEMO_CUSTOMERS=false');
    expect(await servingColour()).to.equal(active);

    const ps2 = new PsWatcher().start();
    const widened = await deploy({ GATEWAY_TLS: '', GATEWAY_BIND_ADDRESS: '0.0.0.0', PROD_DEMO_CUSTOMERS: 'false' });
    const ps2Lines = (await ps2.stop()).join('\n');
    expect(widened.code, widened.output).to.equal(0);
    expect(widened.output).to.contain('re-creating the gateway');
    expectNoSecretIn('ps during the widening deploy', ps2Lines, newSecrets);
    expectNoSecretIn('the widening deploy output', widened.output, newSecrets);
    const widenedListeners = await hostListeners(5002);
    expect(widenedListeners).to.include('0.0.0.0:5002');
    expect(widenedListeners.every((a) => a === '0.0.0.0:5002' || a === '[::]:5002')).to.equal(true);
    expect(await view.activeColour()).to.equal(other(active));
    const alice = await submitForm(
      HTTPS_URL,
      '/login',
      { username: 'alice', password: 'password123' },
      new CookieJar(),
    );
    expect(alice.status, 'alice with the published password').to.not.equal(302);
    await login(HTTPS_URL, 'admin', readFileSync(path.join(stateDir, 'prod-admin-password'), 'utf8').trim());
    figures.push(
      `[exposure] widened to 0.0.0.0 (HTTPS by default, demo customers replaced): ${widened.seconds.toFixed(1)} s`,
    );
  });
});
