/**
 * The CD workflow's replica inputs, wired as GitHub wires them: each `scripts/ci/cd-params.sh`
 * step of .github/workflows/cd-local.yml gets its `env:` evaluated by GitHub's expression library
 * for an event, runs the script, and the deploy step after it finds WEB_REPLICAS and
 * TRANSACTIONS_REPLICAS in $GITHUB_ENV. The rule itself (1 to 8, PROD only) is the deploy's
 * validator, scripts/lib/deploy_params.sh.
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
  on: { workflow_dispatch: { inputs: Record<string, { type: string; default: unknown }> } };
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

const dispatch = (inputs: Record<string, string>) => ({
  action: 'deploy',
  mode: 'build',
  image_name: '',
  image_tag: '',
  image_tag_previous: '',
  run_smoke: 'true',
  prune_uat: 'false',
  web_replicas: '1',
  transactions_replicas: '1',
  ...inputs,
});

describe('CD workflow replica inputs (cd-local.yml → cd-params.sh → the deploy step)', () => {
  it('offers web_replicas and transactions_replicas on a manual run, 1 by default', () => {
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(inputs.web_replicas).to.include({ default: '1' });
    expect(inputs.transactions_replicas).to.include({ default: '1' });
  });

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

  for (const job of ['deploy-uat', 'deploy-prod']) {
    it(`${job}: a tag push (no inputs) deploys one container per service`, () => {
      const outcome = runParamsStep(job, 'push', {});
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(outcome.githubEnv).to.include({ WEB_REPLICAS: '1', TRANSACTIONS_REPLICAS: '1' });
    });
  }
});
