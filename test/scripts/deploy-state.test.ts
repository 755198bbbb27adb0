import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

function script(name: string, args: string[], env: Record<string, string>) {
  const result = spawnSync('bash', [path.join(root, name), ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function envValue(file: string, key: string): string {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1) ?? '';
}

describe('deploy state outside the checkout (scripts/ci/prepare-env.sh)', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(path.join(tmpdir(), 'deploy-state-'));
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('creates <state>/<target>.env once, mode 0600, with one random secret per placeholder', () => {
    const first = script('scripts/ci/prepare-env.sh', ['prod'], { BANK_STATE_DIR: state });
    expect(first.code, first.stderr).to.equal(0);
    const file = path.join(state, 'prod.env');
    expect(first.stdout.trim()).to.equal(file);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const password = envValue(file, 'POSTGRES_PASSWORD');
    expect(password).to.match(/^[0-9a-f]{64}$/);
    expect(envValue(file, 'DATABASE_URL')).to.equal(`postgresql://bank:${password}@db:5432/bankdb`);
    expect(envValue(file, 'SECRET_KEY')).to.match(/^[0-9a-f]{64}$/);
    expect(envValue(file, 'SECRET_KEY')).to.not.equal(password);
    const settings = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'));
    expect(settings.join('\n')).to.not.contain('change-me');
  });

  it('reuses an existing file byte for byte, whatever the run', () => {
    script('scripts/ci/prepare-env.sh', ['uat'], { BANK_STATE_DIR: state });
    const file = path.join(state, 'uat.env');
    const before = readFileSync(file, 'utf8');
    const again = script('scripts/ci/prepare-env.sh', ['uat'], { BANK_STATE_DIR: state });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.contain('reusing');
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });

  it('defaults to ~/.fintech-test', () => {
    const result = script('scripts/ci/prepare-env.sh', ['uat'], { HOME: state });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout.trim()).to.equal(path.join(state, '.fintech-test/uat.env'));
  });

  it('changes a secret only on the explicit --rotate, and only that one', () => {
    script('scripts/ci/prepare-env.sh', ['prod'], { BANK_STATE_DIR: state });
    const file = path.join(state, 'prod.env');
    const before = { key: envValue(file, 'SECRET_KEY'), db: envValue(file, 'POSTGRES_PASSWORD') };
    const rotated = script('scripts/ci/prepare-env.sh', ['--rotate', 'SECRET_KEY', 'prod'], { BANK_STATE_DIR: state });
    expect(rotated.code, rotated.stderr).to.equal(0);
    expect(envValue(file, 'SECRET_KEY')).to.match(/^[0-9a-f]{64}$/);
    expect(envValue(file, 'SECRET_KEY')).to.not.equal(before.key);
    expect(envValue(file, 'POSTGRES_PASSWORD')).to.equal(before.db);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it('refuses an unknown key to rotate and a file with a placeholder left', () => {
    script('scripts/ci/prepare-env.sh', ['prod'], { BANK_STATE_DIR: state });
    const unknown = script('scripts/ci/prepare-env.sh', ['--rotate', 'LOG_LEVEL', 'prod'], { BANK_STATE_DIR: state });
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain("cannot rotate 'LOG_LEVEL'");
    const usage = script('scripts/ci/prepare-env.sh', ['staging'], { BANK_STATE_DIR: state });
    expect(usage.code).to.equal(2);
  });
});

describe('one validator for the deploy and the CD workflow (scripts/ci/cd-params.sh)', () => {
  const params = (env: Record<string, string>) => script('scripts/ci/cd-params.sh', [], env);
  const parsed = (stdout: string) =>
    Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

  it('gives the deploy script defaults (RUN_SMOKE=true, MODE=build, the commit SHA as the tag)', () => {
    const result = params({ TARGET: 'prod' });
    expect(result.code, result.stderr).to.equal(0);
    const values = parsed(result.stdout);
    expect(values).to.include({
      TARGET: 'prod',
      ACTION: 'deploy',
      MODE: 'build',
      IMAGE_NAME: 'bank',
      RUN_SMOKE: 'true',
      // Left to the deploy, which keeps what the live colour runs (deploy-replicas-keep.test.ts).
      WEB_REPLICAS: '',
      TRANSACTIONS_REPLICAS: '',
    });
    expect(values.IMAGE_TAG).to.match(/^[0-9a-f]{40}/);
  });

  it('names the images of a tag as CI publishes them', () => {
    const result = params({
      TARGET: 'prod',
      INPUT_MODE: 'image',
      GITHUB_REPOSITORY: 'Someone/Fintech-Test',
      GITHUB_REF_TYPE: 'tag',
      GITHUB_REF_NAME: 'v1.2.0',
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(parsed(result.stdout)).to.include({ IMAGE_NAME: 'ghcr.io/someone/fintech-test', IMAGE_TAG: 'v1.2.0' });
  });

  for (const [label, env, message] of [
    ['an unknown target', { TARGET: 'staging' }, /unknown TARGET 'staging'/],
    [
      'a rollback in image mode without image_tag_previous',
      { TARGET: 'prod', ACTION: 'rollback', INPUT_MODE: 'image', GITHUB_REPOSITORY: 'o/r' },
      /needs IMAGE_TAG_PREVIOUS/,
    ],
    ['run_smoke other than true/false', { TARGET: 'uat', INPUT_RUN_SMOKE: 'yes' }, /RUN_SMOKE must be true or false/],
    [
      'web_replicas that is not a number',
      { TARGET: 'prod', INPUT_WEB_REPLICAS: 'two' },
      /WEB_REPLICAS must be a whole number from 1 to 8, got 'two'/,
    ],
  ] as const) {
    it(`refuses ${label} in one line, exit 2`, () => {
      const result = params(env);
      expect(result.code).to.equal(2);
      expect(result.stderr.trim().split('\n')).to.have.length(1);
      expect(result.stderr).to.match(message);
    });
  }
});
