import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * scripts/stack-down.sh run from a copy of scripts/ and compose/ (so that a test can give it a
 * backup script that fails), with a `docker` first on PATH that records each call with the
 * ENV_FILE it saw and answers like an engine with an empty stack. The commands it records are
 * what the script would run; test/e2e/stack-down.test.ts runs them on a real PROD stack.
 */
function stackDown(
  args: string[],
  options: { input?: string; backup?: 'fails' | 'succeeds' | 'absent' } = {},
): Promise<{ code: number | null; output: string; calls: string[]; state: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stack-down-'));
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  cpSync(path.join(ROOT, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  cpSync(path.join(ROOT, 'compose'), path.join(dir, 'compose'), { recursive: true });
  const backup = path.join(dir, 'scripts/db-backup.sh');
  rmSync(backup, { force: true });
  if (options.backup === 'fails') writeFileSync(backup, 'echo "db-backup: pg_backup_start failed" >&2\nexit 1\n');
  if (options.backup === 'succeeds') writeFileSync(backup, 'echo "copying"\necho "/backups/$1-20261205.tar"\n');
  const calls = path.join(dir, 'calls');
  writeFileSync(
    path.join(dir, 'docker'),
    `#!/bin/sh\necho "docker $* ENV_FILE=\${ENV_FILE:-}" >> '${calls}'\n` +
      `[ "$1" = volume ] && echo bank-prod_prod_pgdata\nexit 0\n`,
  );
  chmodSync(path.join(dir, 'docker'), 0o755);
  cpSync(path.join(dir, 'docker'), path.join(bin, 'docker'));
  symlinkSync(process.execPath, path.join(bin, 'node'));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(dir, 'scripts/stack-down.sh'), ...args], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, BANK_STATE_DIR: state },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const recorded = existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output, calls: recorded, state });
    });
    child.stdin.end(options.input ?? '');
  });
}

const downCalls = (calls: string[]) => calls.filter((call) => / down /.test(call));

describe('scripts/stack-down.sh', () => {
  it('stops PROD with both colour profiles and keeps the volumes, reading the state directory env file', async () => {
    const result = await stackDown(['prod']);
    expect(result.code, result.output).to.equal(0);
    const [down, ...more] = downCalls(result.calls);
    expect(more).to.deep.equal([]);
    expect(down).to.match(
      /^docker compose -p bank-prod -f \S+\/compose\/docker-compose\.prod\.yml --profile blue --profile green down --remove-orphans ENV_FILE=/,
    );
    expect(down).to.not.match(/ -v /);
    // No <state>/prod.env yet: the example only serves to read the compose file.
    expect(down).to.match(/ENV_FILE=\S+\/compose\/\.env\.prod\.example$/);
    expect(result.output).to.contain('volumes kept: bank-prod_prod_pgdata');
  });

  it('stops the CI stack (the stack-down stage deletes its test data without asking)', async () => {
    const kept = await stackDown(['ci']);
    expect(downCalls(kept.calls)).to.have.length(1);
    expect(downCalls(kept.calls)[0]).to.match(/-p bank-ci -f \S+docker-compose\.ci\.yml down --remove-orphans ENV/);
    const deleted = await stackDown(['ci', '--delete-data']);
    expect(deleted.code, deleted.output).to.equal(0);
    expect(downCalls(deleted.calls)[0]).to.match(/-p bank-ci .* down -v --remove-orphans/);
  });

  for (const [label, input] of [
    ['nothing typed', ''],
    ['the wrong name typed', 'yes\n'],
  ] as const) {
    it(`refuses --delete-data on PROD with ${label}, before any backup or down`, async () => {
      const result = await stackDown(['prod', '--delete-data'], { input, backup: 'succeeds' });
      expect(result.code).to.equal(1);
      expect(result.output).to.match(/Type the target's name \(prod\)/);
      expect(result.output).to.match(/not confirmed .*nothing was changed/);
      expect(result.output).to.not.contain('/backups/');
      expect(downCalls(result.calls)).to.deep.equal([]);
    });
  }

  it('refuses --delete-data --yes when the backup fails, and deletes nothing', async () => {
    const result = await stackDown(['uat', '--delete-data', '--yes'], { backup: 'fails' });
    expect(result.code).to.equal(1);
    expect(result.output).to.contain('db-backup: pg_backup_start failed');
    expect(result.output).to.match(/the backup of uat failed, so its data is not deleted; nothing was changed/);
    expect(downCalls(result.calls)).to.deep.equal([]);
  });

  it('refuses --delete-data when there is no backup script at all', async () => {
    const result = await stackDown(['prod', '--delete-data'], { input: 'prod\n', backup: 'absent' });
    expect(result.code).to.equal(1);
    expect(result.output).to.match(/db-backup\.sh does not exist: no backup can be taken/);
    expect(downCalls(result.calls)).to.deep.equal([]);
  });

  it('deletes the volumes once the name is typed back and the backup succeeded, naming the backup', async () => {
    const result = await stackDown(['prod', '--delete-data'], { input: 'prod\n', backup: 'succeeds' });
    expect(result.code, result.output).to.equal(0);
    const [down] = downCalls(result.calls);
    expect(down).to.match(/-p bank-prod .* --profile blue --profile green down -v --remove-orphans/);
    expect(result.output).to.contain('backup taken before the delete: /backups/prod-20261205.tar');
  });

  it('refuses an unknown target or argument with the usage, exit 2', async () => {
    for (const args of [[], ['staging'], ['prod', '--force'], ['prod', '--yes']]) {
      const result = await stackDown(args);
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.output).to.contain('usage: scripts/stack-down.sh ci|uat|prod [--delete-data [--yes]]');
      expect(downCalls(result.calls)).to.deep.equal([]);
    }
  });
});
