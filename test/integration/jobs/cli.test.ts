import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

/**
 * The one-shot job refuses a bad command line or setting with one line naming it, before it opens
 * the database: an operator's typo creates nothing.
 */
describe('the database job refuses bad settings before touching the database (services/jobs/src/cli.ts)', () => {
  let dir: string;
  let database: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bank-job-cli-'));
    database = join(dir, 'bank.db');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function runJob(args: string[], env: Record<string, string>) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'services/jobs/src/cli.ts', ...args], {
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: `sqlite://${database}`, ...env },
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: run.status, stderr: run.stderr };
  }

  const cases: Array<[string, string[], Record<string, string>, string]> = [
    ['no step', [], {}, 'arguments must be one or more of migrate, seed, got ""'],
    ['an unknown step', ['migrate', 'drop'], {}, 'arguments must be one or more of migrate, seed, got "migrate drop"'],
    [
      'an admin password source other than stdin',
      ['migrate'],
      { SEED_ADMIN_PASSWORD: 'file' },
      'SEED_ADMIN_PASSWORD must be "stdin" when set, got "file"',
    ],
    [
      'an unknown demo customers mode',
      ['migrate', 'seed'],
      { SEED_ADMIN_PASSWORD: 'stdin', SEED_DEMO_CUSTOMERS: 'maybe' },
      'SEED_DEMO_CUSTOMERS must be one of yes, no, lock, got "maybe"',
    ],
  ];
  for (const [what, args, env, message] of cases) {
    it(`refuses ${what} with exit 1 and "${message}"`, () => {
      const { status, stderr } = runJob(args, env);
      expect(status).to.equal(1);
      expect(stderr).to.contain(`[jobs] Invalid configuration: ${message}`);
      expect(existsSync(database), 'the database file was created').to.equal(false);
    });
  }
});
