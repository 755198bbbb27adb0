/**
 * PROD with two replicas per service and colour (WEB_REPLICAS=2, TRANSACTIONS_REPLICAS=2), one
 * bring-up for every scenario: the gateway spreads over the web replicas and web over the
 * transactions replicas; `docker kill` of a web replica under continuous load fails no GET, and
 * the gateway follows the replica when it comes back; nor does a kill of a transactions replica
 * (web's client retries an idempotent call on a fresh connection), and web uses that replica
 * again once it restarts; three flips under load (all replicas of a colour at once) fail no
 * request; /metrics is not reachable through the public port while nginx's stub_status answers
 * on the internal listener; a deploy and a rollback given no replica count (an automatic deploy
 * of the CD workflow) keep the 2+2 the live colour runs, under load.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ComposeStack, TempEnvFile, runOk } from './helpers/compose.js';
import { serviceContainers } from './helpers/containers.js';
import {
  endProdSuite,
  expectNoFailure,
  other,
  PROD_URL,
  prodTestEnv,
  ProdView,
  runDeploy,
  sleep,
  underLoad,
  type DeployResult,
} from './helpers/deploy.js';
import { http } from './helpers/http.js';
import { formatReport, LoadClient } from './helpers/load-client.js';

const REPLICAS = { WEB_REPLICAS: '2', TRANSACTIONS_REPLICAS: '2' };
const envFile = new TempEnvFile(prodTestEnv());
const stateDir = mkdtempSync(path.join(tmpdir(), 'bank-e2e-state-'));
const prod = new ComposeStack('bank-prod', 'compose/docker-compose.prod.yml', { ENV_FILE: envFile.path }, [
  'blue',
  'green',
]);
const view = new ProdView(prod);
const figures: string[] = [];

/** A PROD deploy given `env` only (no replica count unless it holds one); it must exit 0. */
async function deployGiven(env: Record<string, string>): Promise<DeployResult> {
  const base = { ENV_FILE: envFile.path, BANK_STATE_DIR: stateDir, TARGET: 'prod', MODE: 'build', RUN_SMOKE: 'false' };
  const result = await runDeploy(base, env);
  if (result.code !== 0) throw new Error(`deploy exited ${result.code}:\n${result.output}`);
  return result;
}

/** A PROD deploy with 2+2 replicas. */
const deployOk = (env: Record<string, string> = {}) => deployGiven({ ...REPLICAS, ...env });

/** Ids of the running containers of a service (its replicas). */
const replicas = (service: string) => serviceContainers(prod.project, service);

/**
 * Established TCP connections on a container's port 5000 (0x1388) from another container, from its
 * own /proc/net/tcp (its healthcheck's connections from 127.0.0.1, 0100007F, do not count).
 */
async function connectionsServed(containerId: string): Promise<number> {
  const table = await runOk('docker', ['exec', containerId, 'cat', '/proc/net/tcp']);
  return table.split('\n').filter((line) => / [0-9A-F]{8}:1388 (?!0100007F)[0-9A-F]{8}:[0-9A-F]{4} 01 /.test(line))
    .length;
}

/** The web addresses nginx has loaded (recorded by set-upstream / gateway-healthcheck). */
async function gatewayAddresses(): Promise<string[]> {
  return (await view.gatewayExec('cat', '/tmp/nginx/upstream.addr')).trim().split(' ').filter(Boolean);
}

async function waitForGatewayAddresses(count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await gatewayAddresses()).length !== count) {
    if (Date.now() > deadline) throw new Error(`the gateway still loads ${JSON.stringify(await gatewayAddresses())}`);
    await sleep(250);
  }
}

describe('PROD with 2 replicas per colour (WEB_REPLICAS, TRANSACTIONS_REPLICAS)', function () {
  this.timeout(600_000);

  before(async function () {
    this.timeout(1_200_000);
    await prod.down(true);
    const first = await deployOk();
    expect(first.output).to.contain('cold start');
    expect(await view.servingColour()).to.equal('blue');
    figures.push(`[replicas] cold start with 2+2 replicas: ${first.seconds.toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(120_000);
    await endProdSuite('Replica figures', figures, { stack: prod, envFile, stateDir });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await prod.diagnostics());
  });

  it('spreads the load over every web replica, and web over every transactions replica', async () => {
    const colour = await view.activeColour();
    const web = await replicas(`web_${colour}`);
    const transactions = await replicas(`transactions_${colour}`);
    expect(web, 'web replicas').to.have.length(2);
    expect(transactions, 'transactions replicas').to.have.length(2);
    expect(await gatewayAddresses(), 'one upstream server per web replica').to.have.length(2);
    const load = new LoadClient({ baseUrl: PROD_URL, connections: 50, loginWorkers: 0 });
    await load.start();
    let report;
    try {
      await sleep(2000);
      for (const [service, ids] of [
        ['web', web],
        ['transactions', transactions],
      ] as const) {
        for (const id of ids) {
          expect(await connectionsServed(id), `${service} replica ${id.slice(0, 12)} serves connections`).to.be.above(
            0,
          );
        }
      }
    } finally {
      report = await load.stop();
    }
    const detail = `${formatReport('spread', report)}\n${report.samples.join('\n')}`;
    expect(report.badResponses + report.connectionErrors, detail).to.equal(0);
    expect(report.ok, detail).to.be.above(0);
  });

  it('keeps /metrics off the public port; stub_status answers on the internal listener only', async () => {
    for (const pathname of ['/metrics', '/metrics/', '/metrics?format=text']) {
      const response = await http(`${PROD_URL}${pathname}`);
      expect(response.status, pathname).to.equal(404);
      expect(response.body, pathname).to.not.contain('# TYPE');
    }
    const publicStatus = await http(`${PROD_URL}/nginx_status`);
    expect(publicStatus.body).to.not.contain('Active connections');
    const gateway = await prod.containerId('gateway');
    const published = await runOk('docker', ['port', gateway]);
    expect(published).to.contain('8080/tcp');
    expect(published).to.not.contain('8081');
    // From another container of the stack's network, as Prometheus would scrape it.
    const [webId] = await replicas(`web_${await view.activeColour()}`);
    const scraped = await runOk('docker', [
      'exec',
      webId!,
      'node',
      '-e',
      "fetch('http://gateway:8081/nginx_status').then(async (r) => console.log(r.status, await r.text()))",
    ]);
    expect(scraped).to.match(/^200 Active connections: \d+/);
    expect(scraped).to.match(/Reading: \d+ Writing: \d+ Waiting: \d+/);
  });

  it('fails no GET when a web replica is killed under load, and takes it back when it restarts', async () => {
    const colour = await view.activeColour();
    const [victim, survivor] = await replicas(`web_${colour}`);
    // GETs only: a POST in flight on the killed replica is lost with it (nginx never resends a POST).
    const load = new LoadClient({ baseUrl: PROD_URL, connections: 50, loginWorkers: 0 });
    await load.start();
    let report;
    const started = Date.now();
    try {
      await sleep(1000);
      await runOk('docker', ['kill', victim!]);
      await waitForGatewayAddresses(1);
      const followed = (Date.now() - started - 1000) / 1000;
      await sleep(3000);
      await runOk('docker', ['start', victim!]);
      await waitForGatewayAddresses(2);
      // nginx may have set the replica aside for fail_timeout (10 s) if it was hit before listening.
      const deadline = Date.now() + 30_000;
      while ((await connectionsServed(victim!)) === 0 && Date.now() < deadline) await sleep(500);
      expect(await connectionsServed(victim!), 'the restarted replica serves again').to.be.above(0);
      expect(await connectionsServed(survivor!), 'the other replica still serves').to.be.above(0);
      figures.push(`[replicas] gateway dropped the killed replica's address after ${followed.toFixed(1)} s`);
    } finally {
      report = await load.stop();
    }
    const line = formatReport('kill + restart of a web replica', report);
    console.log(`      ${line}`);
    figures.push(line);
    expectNoFailure(report);
  });

  it('fails no GET when a transactions replica is killed under load, and uses it again when it restarts', async () => {
    const colour = await view.activeColour();
    const [victim, survivor] = await replicas(`transactions_${colour}`);
    // Every GET /dashboard makes a call to a transactions replica over web's keep-alive client.
    const load = new LoadClient({ baseUrl: PROD_URL, connections: 50, loginWorkers: 0 });
    await load.start();
    let report;
    let killedAt = 0;
    let servedAgainAfter = Number.NaN;
    const served = { beforeKill: 0, victim: 0, survivor: 0 };
    try {
      await sleep(1000);
      served.beforeKill = await connectionsServed(victim!);
      killedAt = Date.now();
      await runOk('docker', ['kill', victim!]);
      await sleep(5000);
      const restartedAt = Date.now();
      await runOk('docker', ['start', victim!]);
      const deadline = restartedAt + 60_000;
      while ((served.victim = await connectionsServed(victim!)) === 0 && Date.now() < deadline) await sleep(250);
      if (served.victim > 0) servedAgainAfter = (Date.now() - restartedAt) / 1000;
      served.survivor = await connectionsServed(survivor!);
      await sleep(1000);
    } finally {
      report = await load.stop();
    }
    const line = formatReport('kill + restart of a transactions replica', report);
    const since = (at: number) => `+${((at - killedAt) / 1000).toFixed(1)} s`;
    const failures =
      report.lastFailureAt > 0
        ? `failures from ${since(report.firstFailureAt)} to ${since(report.lastFailureAt)} after the kill`
        : 'no failure';
    // web logs each call it sent again (services/web/src/transactions-sender.ts).
    const resent = (await prod.logs(`web_${colour}`)).split('\n').filter((l) => l.includes('sent again')).length;
    const timing =
      `[replicas] transactions replica killed (${served.beforeKill} connections from web): ${failures}, ` +
      `${resent} call(s) web sent again; ` +
      `the restarted replica served again after ${servedAgainAfter.toFixed(1)} s`;
    console.log(`      ${line}\n      ${timing}\n${report.samples.map((s) => `        ${s}`).join('\n')}`);
    figures.push(line, timing);
    expect(served.beforeKill, 'the killed replica was serving web').to.be.above(0);
    expectNoFailure(report);
    expect(served.victim, 'the restarted transactions replica serves again').to.be.above(0);
    expect(served.survivor, 'the other transactions replica still serves').to.be.above(0);
  });

  it('flips all replicas of a colour at once, 3 times under load, with no failed request', async () => {
    const { result, report } = await underLoad('3 flips with 2+2 replicas', figures, async () => {
      const flips: DeployResult[] = [];
      for (let i = 0; i < 3; i += 1) {
        const before = await view.activeColour();
        flips.push(await deployOk());
        const after = other(before);
        expect(await view.activeColour()).to.equal(after);
        expect(await replicas(`web_${after}`), `web_${after} replicas`).to.have.length(2);
        expect(await replicas(`transactions_${after}`), `transactions_${after} replicas`).to.have.length(2);
        expect(await replicas(`web_${before}`), `web_${before} stopped`).to.have.length(0);
        expect(await replicas(`transactions_${before}`), `transactions_${before} stopped`).to.have.length(0);
        expect(await gatewayAddresses(), 'the gateway loads both new replicas').to.have.length(2);
      }
      return flips;
    });
    expectNoFailure(report);
    expect(report.byColor.blue, 'blue answered').to.be.greaterThan(0);
    expect(report.byColor.green, 'green answered').to.be.greaterThan(0);
    figures.push(`[replicas] flips: ${result.map((r) => `${r.seconds.toFixed(1)} s`).join(', ')}`);
  });

  it('keeps 2+2 on a deploy and a rollback given no replica count, and serves under load', async () => {
    // The deploy unset, as a shell gives it; the rollback empty, as the CD workflow's $GITHUB_ENV does.
    expect(process.env.WEB_REPLICAS, 'the test process gives no WEB_REPLICAS').to.equal(undefined);
    expect(process.env.TRANSACTIONS_REPLICAS, 'the test process gives no TRANSACTIONS_REPLICAS').to.equal(undefined);
    const runs: { label: string; env: Record<string, string> }[] = [
      { label: 'deploy', env: {} },
      { label: 'rollback', env: { ACTION: 'rollback', WEB_REPLICAS: '', TRANSACTIONS_REPLICAS: '' } },
    ];
    const seen: string[] = [];
    const { report } = await underLoad('deploy + rollback with no replica count', figures, async () => {
      for (const { label, env } of runs) {
        const live = await view.activeColour();
        const result = await deployGiven(env);
        const target = other(live);
        expect(result.output, label).to.contain(
          `replicas: web 2 (kept from ${live}), transactions 2 (kept from ${live})`,
        );
        expect(await view.activeColour(), label).to.equal(target);
        expect(await view.servingColour(), label).to.equal(target);
        const web = await replicas(`web_${target}`);
        const transactions = await replicas(`transactions_${target}`);
        expect(web, `${label}: web_${target} replicas`).to.have.length(2);
        expect(transactions, `${label}: transactions_${target} replicas`).to.have.length(2);
        expect(await gatewayAddresses(), `${label}: the gateway loads both web replicas`).to.have.length(2);
        seen.push(`${label} ${live} -> ${target}: ${web.length} web + ${transactions.length} transactions`);
      }
    });
    figures.push(`[replicas] no replica count given: ${seen.join('; ')}`);
    expectNoFailure(report);
  });
});
