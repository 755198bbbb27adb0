/**
 * A small, readable executor for the jobs of a GitHub Actions workflow, as a self-hosted runner
 * runs them: the workflow is read from its YAML file (the `yaml` package), expressions are
 * evaluated by GitHub's own expression library (`@actions/expressions`), and each `run:` step
 * runs with `bash -e` in GITHUB_WORKSPACE with the GITHUB_ENV file semantics (KEY=value and
 * KEY<<DELIMITER lines appended by a step reach the next steps of the same job).
 *
 * The workspace is one directory reused by every run, and `actions/checkout` is done as the
 * action does it: fetch, check out the commit, `git clean -ffdx`, `git reset --hard`; so
 * untracked and ignored files never survive from one run to the next.
 *
 * What only GitHub can do is said, not faked: jobs that run on GitHub's own runners
 * (`runs-on` without `self-hosted`) run their `run:` steps here too, except steps that need a
 * GitHub secret (the CI-status query); environments' approvals are taken as given; any other
 * `uses:` step whose condition holds fails the job (this executor cannot run it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { truthy } from '@actions/expressions/result';
import { parse } from 'yaml';

export type JobResult = 'success' | 'failure' | 'skipped';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string | boolean;
  env?: Record<string, string | number | boolean>;
  with?: Record<string, string | number | boolean>;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string | boolean;
  'runs-on': string | string[];
  environment?: string;
  steps: Step[];
}

export interface WorkflowEvent {
  name: 'push' | 'workflow_run' | 'workflow_dispatch' | 'schedule';
  /** github.ref, e.g. refs/heads/main or refs/tags/v1.0.0. */
  ref: string;
  sha: string;
  payload?: Record<string, unknown>;
  inputs?: Record<string, string | boolean>;
}

export interface RunReport {
  jobs: Record<string, JobResult>;
  /** Everything the steps printed, job by job, for a failing test's message. */
  log: string;
}

/** A condition that calls one of these decides for itself whether failed needs matter. */
const STATUS_FUNCTION = /\b(success|failure|cancelled|always)\(/;

/** A status function (success(), …) of an `if:`, given the results of the job's needs. */
function statusFunction(name: string, value: () => boolean): FunctionDefinition {
  return { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value()) };
}

/** One `${{ }}` expression, evaluated by GitHub's expression library over `context`. */
export function evaluateExpression(
  text: string,
  context: Record<string, unknown>,
  statuses: (JobResult | undefined)[] = [],
) {
  const lexed = new Lexer(text).lex();
  const functions = [
    statusFunction('success', () => statuses.every((s) => s === 'success')),
    statusFunction('failure', () => statuses.some((s) => s === 'failure')),
    statusFunction('cancelled', () => false),
    statusFunction('always', () => true),
  ];
  const expr = new Parser(lexed.tokens, Object.keys(context), functions).parse();
  const dictionary = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  return new Evaluator(expr, dictionary, new Map(functions.map((f) => [f.name.toLowerCase(), f]))).evaluate();
}

/** A value with ${{ }} expressions inside, as in `env:` and `with:`. */
export function interpolateExpressions(value: string | number | boolean, context: Record<string, unknown>): string {
  return String(value).replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) =>
    evaluateExpression(expr, context).coerceString(),
  );
}

export class WorkflowRunner {
  private readonly workflow: { jobs: Record<string, Job> };

  constructor(
    workflowFile: string,
    /** The repository the checkout fetches from (what GitHub would serve). */
    private readonly origin: string,
    /** GITHUB_WORKSPACE: one directory for every run, as on a real runner. */
    readonly workspace: string,
    /** The runner's own environment (HOME, PATH, …). */
    private readonly runnerEnv: Record<string, string>,
    private readonly repository = 'fintech/fintech-test',
  ) {
    this.workflow = parse(readFileSync(workflowFile, 'utf8')) as { jobs: Record<string, Job> };
  }

  /** Runs every job of the workflow for one event, in the order of the file (needs first). */
  run(event: WorkflowEvent): RunReport {
    const results: Record<string, JobResult> = {};
    let log = '';
    for (const [id, job] of Object.entries(this.workflow.jobs)) {
      const needs = ([] as string[]).concat(job.needs ?? []);
      const github = this.githubContext(event);
      const context = { github, inputs: event.inputs ?? {}, needs: this.needsContext(needs, results) };
      const statuses = needs.map((n) => results[n]);
      if (!this.condition(job.if, context, statuses)) {
        results[id] = 'skipped';
        continue;
      }
      const outcome = this.runJob(id, job, event, context);
      results[id] = outcome.result;
      log += `\n===== job ${id}: ${outcome.result}\n${outcome.log}`;
    }
    return { jobs: results, log };
  }

  private githubContext(event: WorkflowEvent): Record<string, unknown> {
    const refType = event.ref.startsWith('refs/tags/') ? 'tag' : 'branch';
    return {
      event_name: event.name,
      ref: event.ref,
      ref_name: event.ref.replace(/^refs\/(heads|tags)\//, ''),
      ref_type: refType,
      sha: event.sha,
      repository: this.repository,
      actor: 'e2e',
      run_id: '1',
      event: event.payload ?? {},
    };
  }

  private needsContext(needs: string[], results: Record<string, JobResult>): Record<string, unknown> {
    return Object.fromEntries(needs.map((n) => [n, { result: results[n] ?? 'skipped', outputs: {} }]));
  }

  /** An `if:` the way GitHub reads it: no status function means `success() && (...)`. */
  private condition(
    raw: string | boolean | undefined,
    context: Record<string, unknown>,
    statuses: (JobResult | undefined)[],
  ): boolean {
    if (raw === undefined) return statuses.every((s) => s === 'success');
    let text = String(raw).trim();
    const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(text);
    if (wrapped?.[1] !== undefined) text = wrapped[1];
    if (!STATUS_FUNCTION.test(text)) text = `success() && (${text})`;
    return truthy(evaluateExpression(text, context, statuses));
  }

  private runJob(
    id: string,
    job: Job,
    event: WorkflowEvent,
    context: Record<string, unknown>,
  ): { result: JobResult; log: string } {
    const temp = mkdtempSync(path.join(this.runnerEnv.RUNNER_TEMP ?? '/tmp', `job-${id}-`));
    const envFile = path.join(temp, 'github_env');
    writeFileSync(envFile, '');
    const github = context.github as Record<string, string>;
    // A job for GitHub's runners gets a workspace of its own (another machine on GitHub).
    const hosted = !([] as string[]).concat(job['runs-on']).includes('self-hosted');
    const workspace = hosted ? `${this.workspace}-github-hosted` : this.workspace;
    const base: Record<string, string> = {
      ...this.runnerEnv,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: event.name,
      GITHUB_REF: event.ref,
      GITHUB_REF_NAME: github.ref_name ?? '',
      GITHUB_REF_TYPE: github.ref_type ?? '',
      GITHUB_SHA: event.sha,
      GITHUB_REPOSITORY: this.repository,
      GITHUB_WORKSPACE: workspace,
      GITHUB_JOB: id,
      GITHUB_ENV: envFile,
      RUNNER_TEMP: temp,
    };
    const fromSteps: Record<string, string> = {};
    let log = job.environment
      ? `(environment ${interpolateExpressions(job.environment, context)}: approval taken as given)\n`
      : '';
    let failed = false; // the job stops at its first failed step (no step here uses always())
    try {
      for (const step of job.steps) {
        const stepContext = { ...context, env: fromSteps, secrets: {} };
        const label = step.name ?? step.uses ?? step.run ?? '';
        if (!this.condition(step.if, stepContext, ['success'])) {
          log += `--- skipped: ${label}\n`;
          continue;
        }
        const secretEnv = Object.values(step.env ?? {}).some((v) => String(v).includes('secrets.'));
        if (hosted && secretEnv) {
          log += `--- GitHub only (needs a GitHub secret): ${label}\n`;
          continue;
        }
        if (step.uses?.startsWith('actions/checkout@')) {
          const ref = step.with?.ref ? interpolateExpressions(step.with.ref, stepContext) : event.sha;
          log += `--- checkout ${ref}\n${this.checkout(workspace, ref)}`;
          continue;
        }
        if (step.uses) throw new Error(`step "${label}" uses ${step.uses}, which this executor cannot run`);
        const script = path.join(temp, 'step.sh');
        writeFileSync(script, step.run ?? '');
        const stepEnv = Object.fromEntries(
          Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolateExpressions(v, stepContext)]),
        );
        const result = spawnSync('bash', ['-e', script], {
          cwd: workspace,
          env: { ...base, ...fromSteps, ...stepEnv },
          encoding: 'utf8',
          timeout: 1_200_000,
          maxBuffer: 64 * 1024 * 1024,
        });
        log += `--- run: ${label} (exit ${result.status})\n${result.stdout}${result.stderr}`;
        Object.assign(fromSteps, readGithubEnv(envFile));
        if (result.status !== 0) {
          failed = true;
          break;
        }
      }
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
    return { result: failed ? 'failure' : 'success', log };
  }

  /** What actions/checkout does on a self-hosted runner's reused workspace. */
  private checkout(workspace: string, ref: string): string {
    const git = (...args: string[]) => {
      const r = spawnSync('git', args, { cwd: workspace, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    if (!existsSync(path.join(workspace, '.git'))) {
      mkdirSync(workspace, { recursive: true });
      git('init', '--quiet');
      git('remote', 'add', 'origin', this.origin);
    }
    git('fetch', '--quiet', '--force', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*');
    git('checkout', '--quiet', '--force', '--detach', ref);
    const cleaned = git('clean', '-ffdx');
    git('reset', '--quiet', '--hard', 'HEAD');
    return cleaned;
  }
}

/** The variables a step appended to the GITHUB_ENV file. */
export function readGithubEnv(file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    const heredoc = /^([A-Za-z_][A-Za-z0-9_]*)<<(.+)$/.exec(line);
    if (heredoc?.[1] && heredoc[2]) {
      const body: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== heredoc[2]; i += 1) body.push(lines[i] ?? '');
      vars[heredoc[1]] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return vars;
}
