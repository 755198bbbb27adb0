/**
 * The cluster tier (scripts/ci/stage.sh cluster): PROD on the three-node Docker Swarm of
 * scripts/cluster.sh (which the stage starts before and removes after), deployed, flipped, rolled
 * back, drained and cut by `scripts/deploy_blue_green_local.sh` with TARGET=prod PLATFORM=swarm,
 * each scenario under the continuous load client plus keyed transfers, each printing requests,
 * failures, resent GETs and POSTs and durations. The hot standby (scripts/db-standby.sh, on
 * another node than the primary) is seeded early and checked at the end, after its node was
 * killed. The scenarios build on each other (bail).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { run, TempEnvFile } from '../e2e/helpers/compose.js';
import { other, prodTestEnv, runDeploy, type Colour, type DeployResult } from '../e2e/helpers/deploy.js';
import { http } from '../e2e/helpers/http.js';
import { formatReport, LoadClient, type LoadReport } from '../e2e/helpers/load-client.js';
import {
  activeColour,
  CLUSTER_URL,
  docker,
  nodeByAddress,
  secondsUntilWhole,
  sleep,
  sql,
  swarm,
  tasksOf,
  TransferClient,
  upstreamAddresses,
  type TransferReport,
} from './helpers.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const WEB_REPLICAS = process.env.CLUSTER_WEB_REPLICAS ?? '3';
const TRANSACTIONS_REPLICAS = process.env.CLUSTER_TRANSACTIONS_REPLICAS ?? '2';
const CONNECTIONS = Number(process.env.CLUSTER_LOAD_CONNECTIONS ?? '10');
const REGISTRY_PUSH = `127.0.0.1:${process.env.CLUSTER_REGISTRY_PORT ?? '5015'}`;

describe('PROD on a three-node Docker Swarm (scripts/cluster.sh, PLATFORM=swarm)', function () {
  const figures: string[] = [];
  const stateDir = mkdtempSync(path.join(tmpdir(), 'bank-cluster-state-'));
  // One session sends a transfer every 0.3 s through every scenario: above the default limits.
  const envFile = new TempEnvFile(prodTestEnv({ TRANSFER_MAX_PER_SESSION: '100000', TRANSFER_MAX_PER_USER: '100000' }));
  const tag = `cluster-${execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()}`;
  const transferReports: TransferReport[] = [];
  let requestsInAll = 0;

  const base = {
    TARGET: 'prod',
    PLATFORM: 'swarm',
    BANK_STATE_DIR: stateDir,
    ENV_FILE: envFile.path,
    WEB_REPLICAS,
    TRANSACTIONS_REPLICAS,
    SMOKE_SECONDS: '3',
    HEALTH_TIMEOUT: '300',
  };
  // After the first build, the same release comes from the cluster's registry (MODE=image).
  const fromRegistry = { MODE: 'image', IMAGE_NAME: `${REGISTRY_PUSH}/bank`, IMAGE_TAG: tag };
  const deploy = (env: Record<string, string> = {}): Promise<DeployResult> =>
    runDeploy(base, { ...fromRegistry, ...env });

  /** The deploy's own timings (ready, switch, total), for the figures. */
  function timings(label: string, result: DeployResult): void {
    const lines = result.output
      .split('\n')
      .filter((l) => /ready on every node|switch took|on the swarm done|FAILED/.test(l));
    figures.push(`[${label}] ${lines.map((l) => l.replace(/^\[deploy_blue_green_local\] /, '')).join(' | ')}`);
  }

  /** `action` under the load client and the transfer client; prints and returns both reports. */
  async function underLoad<T>(
    label: string,
    action: () => Promise<T>,
  ): Promise<{ result: T; load: LoadReport; transfers: TransferReport }> {
    const load = new LoadClient({
      baseUrl: CLUSTER_URL,
      connections: CONNECTIONS,
      loginWorkers: 1,
      requestTimeoutMs: 20_000,
    });
    const transfers = new TransferClient(CLUSTER_URL);
    await load.start();
    await transfers.start();
    let result: T;
    let report: LoadReport;
    let sent: TransferReport;
    try {
      await sleep(1000);
      result = await action();
      await sleep(1000);
    } finally {
      report = await load.stop();
      sent = await transfers.stop();
    }
    transferReports.push(sent);
    requestsInAll += report.requests;
    const line =
      `${formatReport(label, report)}; transfers ${sent.keys.length} (confirmed ${sent.confirmed}, ` +
      `POSTs resent with their key ${sent.resentPosts}, unanswered ${sent.unanswered})`;
    console.log(`      ${line}`);
    figures.push(line);
    return { result, load: report, transfers: sent };
  }

  function expectNoFailure(report: LoadReport, transfers: TransferReport): void {
    const detail = `${formatReport('load', report)}\n${report.samples.join('\n')}`;
    expect(report.badResponses, detail).to.equal(0);
    expect(report.connectionErrors, detail).to.equal(0);
    expect(report.resent, detail).to.be.at.most(5);
    expect(report.requests, detail).to.be.greaterThan(300);
    expect(transfers.unanswered, 'transfers without an answer').to.equal(0);
    expect(transfers.confirmed, 'transfers confirmed').to.equal(transfers.keys.length);
  }

  after(async function () {
    this.timeout(120_000);
    console.log(`\n      cluster tier figures:\n${figures.map((f) => `        ${f}`).join('\n')}\n`);
    envFile.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('deploys PROD on the swarm: the new colour healthy on its nodes, smoke-checked, served', async function () {
    const result = await runDeploy(base, { MODE: 'build', IMAGE_TAG: tag });
    expect(result.code, result.output).to.equal(0);
    expect(result.output).to.match(/smoke: ok/);
    const served = await http(`${CLUSTER_URL}/health`);
    expect(served.status).to.equal(200);
    expect(served.headers['x-app-color']).to.equal(await activeColour());
    figures.push(
      `[deploy] first deploy (build, push to the cluster's registry, migrate, start, gateway) in ${result.seconds.toFixed(1)} s`,
    );
    // The same digest on every node: Swarm pins the registry's digest in the service's spec.
    const image = (
      await swarm(
        'service',
        'inspect',
        '-f',
        '{{.Spec.TaskTemplate.ContainerSpec.Image}}',
        `bank_web_${await activeColour()}`,
      )
    ).trim();
    expect(image).to.match(/^bank-cluster-registry:5000\/bank-web:cluster-[0-9a-f]+@sha256:[0-9a-f]{64}$/);
  });

  it('serves from replicas on at least two different nodes', async function () {
    const colour = await activeColour();
    const since = new Date(Date.now() - 1000).toISOString();
    const { load, transfers } = await underLoad('cross-node traffic', () => sleep(8000));
    expectNoFailure(load, transfers);
    const byAddress = await nodeByAddress();
    const counts = await upstreamAddresses(since);
    const byNode = new Map<string, number>();
    for (const [address, n] of counts) {
      const node = byAddress.get(address) ?? 'unknown';
      byNode.set(node, (byNode.get(node) ?? 0) + n);
    }
    const placement = (await tasksOf(`web_${colour}`)).map((t) => t.node);
    const line = `[nodes] web_${colour} replicas on ${placement.join(', ')}; requests by node: ${JSON.stringify(Object.fromEntries(byNode))}`;
    console.log(`      ${line}`);
    figures.push(line);
    expect([...byNode.keys()].filter((n) => n.startsWith('bank-node-')).length, line).to.be.at.least(2);
  });

  it('seeds a hot standby on another node than the primary: read-only, streaming what the bank writes', async function () {
    const standbyScript = (action: string) =>
      run('bash', ['scripts/db-standby.sh', 'prod', action], {
        env: { PLATFORM: 'swarm', BANK_STATE_DIR: stateDir },
        timeoutMs: 300_000,
      });
    const { result, load, transfers } = await underLoad('standby seeded', () => standbyScript('start'));
    const output = result.stdout + result.stderr;
    expect(result.code, output).to.equal(0);
    expectNoFailure(load, transfers);
    const [primary] = await tasksOf('db');
    const [standby] = await tasksOf('db_standby');
    expect(standby?.node, 'the standby runs on another node than the primary')
      .to.be.a('string')
      .and.not.equal(primary?.node);
    expect(await sql('select pg_is_in_recovery()', 'db_standby'), 'the standby is read-only').to.equal('t');
    // Every transfer the load posted is on the standby moments later.
    const onPrimary = await sql('select count(*) from transfers');
    const since = Date.now();
    let onStandby = '';
    while ((onStandby = await sql('select count(*) from transfers', 'db_standby')) !== onPrimary) {
      if (Date.now() - since > 30_000) break;
      await sleep(200);
    }
    expect(onStandby, 'transfers on the standby vs the primary').to.equal(onPrimary);
    const status = await standbyScript('status');
    expect(status.code, status.stdout + status.stderr).to.equal(0);
    const seeded = /standby seeded and streaming in ([\d.]+) s/.exec(output)?.[1] ?? '?';
    const lag = /standby (streaming: .*)/.exec(status.stderr)?.[1] ?? status.stderr.trim();
    const line = `[standby] db on ${primary?.node}, db_standby on ${standby?.node}; seeded under load in ${seeded} s; ${onPrimary} transfers on it ${((Date.now() - since) / 1000).toFixed(1)} s after the load stopped; ${lag}`;
    console.log(`      ${line}`);
    figures.push(line);
  });

  it('flips three times and rolls back with no failed request; the rollback is a switch', async function () {
    const start = await activeColour();
    const { result, load, transfers } = await underLoad('3 flips and a rollback', async () => {
      const runs: DeployResult[] = [];
      for (let i = 0; i < 3; i += 1) runs.push(await deploy());
      runs.push(await deploy({ ACTION: 'rollback' }));
      return runs;
    });
    result.forEach((r, i) => timings(i < 3 ? `flip ${i + 1}` : 'rollback', r));
    for (const r of result) expect(r.code, r.output).to.equal(0);
    expect(await activeColour()).to.equal(start);
    expectNoFailure(load, transfers);
    const rollback = result[3]!;
    expect(rollback.output).to.contain('left running out of the upstream');
    // A duration target, reported rather than asserted (a loaded machine would fail it at random).
    const served = /served by \w+ ([\d.]+)s after the rollback started/.exec(rollback.output);
    expect(served, 'the script says when the original colour serves again').to.not.equal(null);
    figures.push(
      `[deploy] flips ${result
        .slice(0, 3)
        .map((r) => `${r.seconds.toFixed(1)} s`)
        .join(
          ', ',
        )}; rollback (target: under 10 s): served again after ${served![1]} s, script done in ${rollback.seconds.toFixed(1)} s`,
    );
  });

  it('drains a worker that holds replicas with no failed request; its tasks move to the other nodes', async function () {
    const colour: Colour = await activeColour();
    const services = [`web_${colour}`, `transactions_${colour}`];
    const node = 'bank-node-2';
    const before = (await Promise.all(services.map(tasksOf))).flat().filter((t) => t.node === node).length;
    expect(before, `${node} holds replicas of ${colour}`).to.be.greaterThan(0);
    let wholeAfter = 0;
    const { load, transfers } = await underLoad(`drain ${node}`, async () => {
      const since = Date.now();
      await swarm('node', 'update', '--availability', 'drain', node);
      wholeAfter = await secondsUntilWhole(services, [node], since, 120);
      await sleep(2000);
    });
    await swarm('node', 'update', '--availability', 'active', node);
    expectNoFailure(load, transfers);
    figures.push(
      `[drain] ${before} task(s) of ${colour} moved off ${node}; every replica running again after ${wholeAfter.toFixed(1)} s`,
    );
  });

  it('loses a worker abruptly: failures bounded by the requests in flight, every replica running again within 60 s', async function () {
    const colour: Colour = await activeColour();
    const services = [`web_${colour}`, `transactions_${colour}`];
    const node = 'bank-node-3';
    const before = (await Promise.all(services.map(tasksOf))).flat().filter((t) => t.node === node).length;
    expect(before, `${node} holds replicas of ${colour}`).to.be.greaterThan(0);
    let wholeAfter = 0;
    const { load, transfers } = await underLoad(`kill ${node}`, async () => {
      const since = Date.now();
      await docker('kill', node);
      wholeAfter = await secondsUntilWhole(services, [node], since, 90);
      await sleep(2000);
    });
    const failed = load.badResponses + load.connectionErrors;
    const line = `[kill] ${before} task(s) of ${colour} on ${node}; failed ${failed} of ${load.requests} requests (${((100 * failed) / load.requests).toFixed(2)} %); every replica running again after ${wholeAfter.toFixed(1)} s`;
    console.log(`      ${line}`);
    figures.push(line);
    expect(failed, line).to.be.at.most(Math.floor(load.requests / 100));
    expect(wholeAfter, line).to.be.below(60);
    expect(transfers.unanswered, 'a transfer is always answered in the end').to.equal(0);
    // The node comes back (same address, same swarm state) for the next scenarios.
    await docker('start', node);
  });

  it('refuses a release that crashes at boot before the flip; the old colour keeps serving', async function () {
    const active = await activeColour();
    const crash = `${tag}-crash`;
    // The same release, except that its web service exits at start-up.
    const dockerfile = `FROM ${REGISTRY_PUSH}/bank-web:${tag}\nCMD ["node", "-e", "console.error('simulated boot failure'); process.exit(1)"]\n`;
    for (const service of ['transactions', 'gateway']) {
      await docker('pull', '-q', `${REGISTRY_PUSH}/bank-${service}:${tag}`);
      await docker('tag', `${REGISTRY_PUSH}/bank-${service}:${tag}`, `${REGISTRY_PUSH}/bank-${service}:${crash}`);
      await docker('push', '-q', `${REGISTRY_PUSH}/bank-${service}:${crash}`);
    }
    await docker('pull', '-q', `${REGISTRY_PUSH}/bank-web:${tag}`);
    execFileSync('docker', ['build', '-q', '-t', `${REGISTRY_PUSH}/bank-web:${crash}`, '-'], { input: dockerfile });
    await docker('push', '-q', `${REGISTRY_PUSH}/bank-web:${crash}`);
    const { result, load, transfers } = await underLoad('release crashing at boot', () => deploy({ IMAGE_TAG: crash }));
    expect(result.code, result.output).to.equal(1);
    expect(result.output, result.output).to.contain(`web_${other(active)} crashed`);
    expect(result.output, result.output).to.contain('simulated boot failure');
    expect(result.output, result.output).to.contain(`${active} keeps serving`);
    expect(await activeColour()).to.equal(active);
    expectNoFailure(load, transfers);
    figures.push(`[deploy] crashing release refused before the flip in ${result.seconds.toFixed(1)} s`);
  });

  it('posted every keyed transfer exactly once; trial balance 0; every balance equals its journal lines', async function () {
    const keys = transferReports.flatMap((r) => r.keys);
    expect(keys.length).to.be.greaterThan(0);
    const list = keys.map((k) => `'${k.replace(/'/g, "''")}'`).join(',');
    const rows = await sql(
      `SELECT count(*), count(DISTINCT idempotency_key) FROM transfers WHERE status = 'succeeded' AND idempotency_key IN (${list})`,
    );
    const [posted, distinct] = rows.split('|').map(Number);
    const trial = await sql(
      `SELECT count(*) FROM (SELECT currency FROM transactions GROUP BY currency HAVING sum(amount) <> 0) t`,
    );
    const mismatched = await sql(
      `SELECT count(*) FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS s FROM transactions GROUP BY account_id) j ON j.account_id = a.number WHERE a.balance <> coalesce(j.s, 0)`,
    );
    const line = `[ledger] ${keys.length} keyed transfers sent, ${posted} posted (${distinct} distinct keys), ${transferReports.reduce((n, r) => n + r.resentPosts, 0)} POSTs resent with their key; currencies off balance ${trial}; accounts off their journal ${mismatched}; ${requestsInAll} requests in all scenarios`;
    console.log(`      ${line}`);
    figures.push(line);
    expect(posted, line).to.equal(keys.length);
    expect(distinct, line).to.equal(keys.length);
    expect(trial).to.equal('0');
    expect(mismatched).to.equal('0');
    // The standby's node was killed and started again: it caught up through its slot.
    const since = Date.now();
    const journal = `select count(*) || ' ' || coalesce(sum(abs(amount)), 0) from transactions`;
    const onPrimary = await sql(journal);
    let onStandby = '';
    while ((onStandby = await sql(journal, 'db_standby').catch(() => '')) !== onPrimary) {
      if (Date.now() - since > 60_000) break;
      await sleep(500);
    }
    const standbyLine = `[ledger] standby after its node was killed and started again: journal lines and sum ${onStandby || 'none'} vs ${onPrimary} on the primary (${((Date.now() - since) / 1000).toFixed(1)} s)`;
    console.log(`      ${standbyLine}`);
    figures.push(standbyLine);
    expect(onStandby, standbyLine).to.equal(onPrimary);
  });

  it('promotes the standby when the primary is lost: the bank serves from it, nothing acknowledged lost', async function () {
    let promoted: Awaited<ReturnType<typeof run>> | undefined;
    let servedAfter = Number.NaN;
    const { load, transfers } = await underLoad('standby promoted', async () => {
      const since = Date.now();
      promoted = await run('bash', ['scripts/db-promote.sh', 'prod'], {
        env: { PLATFORM: 'swarm', BANK_STATE_DIR: stateDir },
        timeoutMs: 300_000,
      });
      while (Date.now() - since < 120_000) {
        const ready = await http(`${CLUSTER_URL}/ready`).catch(() => undefined);
        if (ready?.status === 200) break;
        await sleep(250);
      }
      servedAfter = (Date.now() - since) / 1000;
      // Transfers go on against the new primary.
      await sleep(5000);
    });
    const output = `${promoted?.stdout ?? ''}${promoted?.stderr ?? ''}`;
    expect(promoted?.code, output).to.equal(0);
    expect(await sql('select pg_is_in_recovery()', 'db_standby'), 'the standby is the primary now').to.equal('f');
    expect((await tasksOf('db')).length, 'no task of the old primary').to.equal(0);
    const acknowledged = transferReports.flatMap((r) => r.confirmedKeys);
    const list = acknowledged.map((k) => `'${k.replace(/'/g, "''")}'`).join(',');
    const posted = await sql(
      `SELECT count(DISTINCT idempotency_key) FROM transfers WHERE status = 'succeeded' AND idempotency_key IN (${list})`,
      'db_standby',
    );
    const took = /promoted in ([\d.]+) s/.exec(output)?.[1] ?? '?';
    const failed = load.badResponses + load.connectionErrors;
    const line = `[promote] db_standby promoted by scripts/db-promote.sh in ${took} s; the bank answered /ready again ${servedAfter.toFixed(1)} s after it started; ${failed} of ${load.requests} requests failed meanwhile; ${transfers.confirmedKeys.length} transfers confirmed during the scenario, ${transfers.unanswered} unanswered; ${posted} of ${acknowledged.length} acknowledged transfers of all scenarios on the new primary`;
    console.log(`      ${line}`);
    figures.push(line);
    expect(posted, line).to.equal(String(acknowledged.length));
    expect(servedAfter, line).to.be.below(120);
    expect(transfers.confirmed, 'transfers confirmed against the new primary').to.be.greaterThan(0);
  });
});
