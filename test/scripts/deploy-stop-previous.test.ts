/**
 * STOP_PREVIOUS, as scripts/lib/deploy_params.sh resolves it for the deploy and for the CD
 * workflow (scripts/ci/cd-params.sh prints what the deploy step will get): the previous colour is
 * kept running by default (a rollback is a switch), stopped when asked, and STOP_OLD_COLOR (its
 * former name, default true then) still means the same thing. What the deploy does with it on
 * Docker is checked by the e2e tier (test/e2e/bluegreen.test.ts, replicas.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const cdParams = fileURLToPath(new URL('../../scripts/ci/cd-params.sh', import.meta.url));

function resolved(env: Record<string, string>): { code: number | null; stopPrevious: string; stderr: string } {
  const result = spawnSync('bash', [cdParams], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TARGET: 'prod', INPUT_IMAGE_TAG: 'v1', ...env },
    encoding: 'utf8',
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('STOP_PREVIOUS=')) ?? '';
  return { code: result.status, stopPrevious: line.slice('STOP_PREVIOUS='.length), stderr: result.stderr };
}

describe('STOP_PREVIOUS (deploy parameter)', () => {
  it('keeps the previous colour running by default, so that a rollback is a switch', () => {
    const result = resolved({});
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stopPrevious).to.equal('false');
  });

  it('stops it when STOP_PREVIOUS=true (a host short of memory)', () => {
    expect(resolved({ STOP_PREVIOUS: 'true' }).stopPrevious).to.equal('true');
  });

  it('accepts STOP_OLD_COLOR, its former name, with the same meaning', () => {
    expect(resolved({ STOP_OLD_COLOR: 'true' }).stopPrevious).to.equal('true');
    expect(resolved({ STOP_OLD_COLOR: 'false' }).stopPrevious).to.equal('false');
    expect(resolved({ STOP_OLD_COLOR: 'true', STOP_PREVIOUS: 'true' }).stopPrevious).to.equal('true');
  });

  it('refuses a former-name value that is not true or false, naming it (exit 2)', () => {
    const result = resolved({ STOP_OLD_COLOR: 'yes' });
    expect(result.code).to.equal(2);
    expect(result.stderr.trim()).to.equal("cd-params: STOP_OLD_COLOR must be true or false, got 'yes'");
  });
});
