/**
 * What a PROD rollback says about the backup taken before the release it undoes
 * (prod_backup_name_for_rollback in scripts/lib/deploy_backup.sh), read from
 * <state>/prod.backups. A cluster rollback once died there (exit 2, set -e) because no deploy had
 * written that file yet.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

const HARNESS = `
set -euo pipefail
ROOT_DIR="$PWD" DEPLOY_NAME=deploy
source scripts/lib/deploy_state.sh
source scripts/lib/deploy_common.sh
source scripts/lib/deploy_backup.sh
prod_backup_name_for_rollback "$UNDONE"
echo "went on"
`;

function rollbackNote(
  records: string | undefined,
  undone: string,
): { status: number | null; stderr: string; stdout: string } {
  const state = mkdtempSync(path.join(tmpdir(), 'deploy-backup-record-'));
  try {
    if (records !== undefined) writeFileSync(path.join(state, 'prod.backups'), records);
    const result = spawnSync('bash', ['-c', HARNESS], {
      cwd: root,
      // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', HOME: state, BANK_STATE_DIR: state, UNDONE: undone },
      encoding: 'utf8',
    });
    return { status: result.status, stderr: result.stderr, stdout: result.stdout };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

describe('PROD rollback: the backup taken before the release it undoes (prod_backup_name_for_rollback)', () => {
  it('names the last backup recorded before that release', () => {
    const outcome = rollbackNote('v1 /b/one.tar.gz\nv2 /b/two.tar.gz\nv2 /b/three.tar.gz\n', 'v2');
    expect(outcome.status, outcome.stderr).to.equal(0);
    expect(outcome.stderr).to.contain('rollback of v2: the database as it was before v2 is in /b/three.tar.gz');
    expect(outcome.stdout).to.contain('went on');
  });

  it('says there is none, and goes on, when no deploy recorded a backup yet', () => {
    const outcome = rollbackNote(undefined, 'v2');
    expect(outcome.status, outcome.stderr).to.equal(0);
    expect(outcome.stderr).to.contain('rollback of v2: no backup was recorded before v2 was deployed');
    expect(outcome.stdout).to.contain('went on');
  });
});
