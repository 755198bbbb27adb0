/**
 * The CD workflow's replica inputs, wired as GitHub wires them: each `scripts/ci/cd-params.sh`
 * step of .github/workflows/cd-local.yml gets its `env:` evaluated by GitHub's expression library
 * for an event, runs the script, and the deploy step after it finds WEB_REPLICAS and
 * TRANSACTIONS_REPLICAS in $GITHUB_ENV. The rule itself (1 to 8, PROD only) is the deploy's
 * validator, scripts/lib/deploy_params.sh. A PROD count not given stays empty there: the deploy
 * resolves it on the host to what the live colour runs (test/scripts/deploy-replicas-keep.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { interpolateExpressions, readGithubEnv } from '../e2e/helpers/workflow-runner.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CD_PARAMS = 'scripts/ci/cd-params.sh';

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: { workflow_dispatch: { inputs: Record<string, { type: string; default: unknown; description: string }> } };
  jobs: Record<string, { steps: Step[] }>;
}
const workflow = parse(readFileSync(path.join(root, '.github/workflows/cd-local.yml'), 'utf8')) as Workflow;

interface Outcome {
  code: number | null;
  stderr: string;
  githubEnv: Record<string, string>;
}

/** Runs the cd-params step of `job` for an event with these inputs, as the runner would. */
function runParamsStep(job: string, eventName: string, inputs: Record<string, string>): Outcome {
  const steps = workflow.jobs[job]?.steps ?? [];
  const index = steps.findIndex((s) => s.run?.trim() === CD_PARAMS);
  expect(index, `${job} resolves its parameters with ${CD_PARAMS}`).to.be.at.least(0);
  const deploy = steps.findIndex((s) => s.run?.includes('scripts/deploy_blue_green_local.sh'));
  if (deploy >= 0) expect(deploy, `${job}: the deploy step comes after the parameters`).to.be.above(index);
  const context = { github: { event_name: eventName }, inputs, needs: {}, env: {}, secrets: {} };
  const env = Object.fromEntries(
    Object.entries(steps[index]!.env ?? {}).map(([k, v]) => [k, interpolateExpressions(v, context)]),
  );
  const temp = mkdtempSync(path.join(tmpdir(), 'cd-params-'));
  try {
    const githubEnv = path.join(temp, 'github_env');
    writeFileSync(githubEnv, '');
    const result = spawnSync('bash', [path.join(root, CD_PARAMS)], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GITHUB_ENV: githubEnv, GITHUB_REPOSITORY: 'o/r', ...env },
      encoding: 'utf8',
    });
    return { code: result.status, stderr: result.stderr, githubEnv: readGithubEnv(githubEnv) };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** A manual run's inputs: the workflow's defaults (what GitHub fills in), then those given. */
const dispatch = (inputs: Record<string, string>) => ({
  ...Object.fromEntries(
    Object.entries(workflow.on.workflow_dispatch.inputs).map(([name, input]) => [name, String(input.default)]),
  ),
  ...inputs,
});

describe('CD workflow replica inputs (cd-local.yml → cd-params.sh → the deploy step)', () => {
  it('offers web_replicas and transactions_replicas on a manual run, empty by default (keep what PROD runs)', () => {
    const inputs = workflow.on.workflow_dispatch.inputs;
    for (const name of ['web_replicas', 'transactions_replicas']) {
      expect(inputs[name], name).to.include({ default: '' });
      expect(inputs[name]?.description, name).to.contain('empty = as many as PROD runs now');
    }
  });

  for (const job of ['ci-passed', 'deploy-prod']) {
    it(`${job}: a manual PROD deploy with the replica inputs left empty leaves them to the deploy`, () => {
      const outcome = runParamsStep(job, 'workflow_dispatch', dispatch({ target: 'prod' }));
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(outcome.githubEnv).to.include({ TARGET: 'prod', WEB_REPLICAS: '', TRANSACTIONS_REPLICAS: '' });
      expect(outcome.stderr).to.contain('replicas web as PROD runs now transactions as PROD runs now');
    });
  }

  for (const job of ['ci-passed', 'deploy-prod']) {
    it(`${job}: a manual PROD deploy with 3 web and 2 transactions replicas hands them to the deploy`, () => {
      const outcome = runParamsStep(
        job,
        'workflow_dispatch',
        dispatch({ target: 'prod', web_replicas: '3', transactions_replicas: '2' }),
      );
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(outcome.githubEnv).to.include({ TARGET: 'prod', WEB_REPLICAS: '3', TRANSACTIONS_REPLICAS: '2' });
    });
  }

  it('rollback: a PROD rollback restarts the previous colour with the replicas asked for', () => {
    const outcome = runParamsStep(
      'rollback',
      'workflow_dispatch',
      dispatch({ action: 'rollback', target: 'prod', web_replicas: '2', transactions_replicas: '2' }),
    );
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.githubEnv).to.include({ ACTION: 'rollback', WEB_REPLICAS: '2', TRANSACTIONS_REPLICAS: '2' });
  });

  it('rollback: a PROD rollback without replica inputs leaves them to the deploy (kept from the live colour)', () => {
    const outcome = runParamsStep('rollback', 'workflow_dispatch', dispatch({ action: 'rollback', target: 'prod' }));
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.githubEnv).to.include({ ACTION: 'rollback', WEB_REPLICAS: '', TRANSACTIONS_REPLICAS: '' });
  });

  it('a manual UAT deploy with the replica inputs left empty runs one container per service', () => {
    const outcome = runParamsStep('deploy-uat', 'workflow_dispatch', dispatch({ target: 'uat' }));
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.githubEnv).to.include({ WEB_REPLICAS: '1', TRANSACTIONS_REPLICAS: '1' });
  });

  for (const job of ['ci-passed', 'deploy-uat']) {
    it(`${job}: a manual UAT deploy with 2 web replicas is refused in one line, exit 2`, () => {
      const outcome = runParamsStep(job, 'workflow_dispatch', dispatch({ target: 'uat', web_replicas: '2' }));
      expect(outcome.code).to.equal(2);
      expect(outcome.stderr.trim().split('\n')).to.have.length(1);
      expect(outcome.stderr).to.contain('WEB_REPLICAS=2: replicas apply to TARGET=prod only');
      expect(outcome.githubEnv, 'nothing reaches the deploy step').to.deep.equal({});
    });
  }

  it('refuses 0 and 9 replicas before anything is deployed', () => {
    for (const [input, value] of [
      ['web_replicas', '0'],
      ['transactions_replicas', '9'],
    ] as const) {
      const outcome = runParamsStep('ci-passed', 'workflow_dispatch', dispatch({ target: 'prod', [input]: value }));
      expect(outcome.code, `${input}=${value}`).to.equal(2);
      expect(outcome.stderr).to.match(/REPLICAS must be a whole number from 1 to 8, got '[09]'/);
    }
  });

  it('deploy-uat: a tag push (no inputs) deploys one container per service', () => {
    const outcome = runParamsStep('deploy-uat', 'push', {});
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.githubEnv).to.include({ WEB_REPLICAS: '1', TRANSACTIONS_REPLICAS: '1' });
  });

  for (const event of ['push', 'workflow_run']) {
    it(`deploy-prod: an automatic deploy (${event}, no inputs) leaves the replicas to the deploy, which keeps PROD's`, () => {
      const outcome = runParamsStep('deploy-prod', event, {});
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(outcome.githubEnv).to.include({ WEB_REPLICAS: '', TRANSACTIONS_REPLICAS: '' });
    });
  }
});
