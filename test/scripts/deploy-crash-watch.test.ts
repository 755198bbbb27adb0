/**
 * The deploy's crash watcher (crashed_service in scripts/lib/deploy_common.sh) while Compose
 * recreates a container. Compose v2 creates the new container as "<old id>_<name>", then stops and
 * removes the old one, then renames the new: for a moment the old one shows "exited, code 0" under
 * its real name. A UAT deploy once died there ("gateway does not stay up") although nothing had
 * crashed. Run as the deploy runs it, sourced by bash, with a fake `docker` that lists FAKE_PS's
 * containers and answers `docker inspect` from FAKE_STATES.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `docker ps -a … --format '<service> <id> <name>'` prints FAKE_PS (lines separated by ";");
 * `docker inspect -f … IDS` prints the FAKE_STATES line ("<service> <id> <status> <restarts> <code>")
 * of each id asked for.
 */
const FAKE_DOCKER = `#!/usr/bin/env bash
case "$1" in
  ps) tr ';' '\\n' <<<"$FAKE_PS" ;;
  inspect)
    shift 2
    for id in "$@"; do tr ';' '\\n' <<<"$FAKE_STATES" | awk -v id="$id" '$2 == id'; done ;;
esac
`;

const HARNESS = `
set -euo pipefail
source scripts/lib/deploy_common.sh
if crash="$(crashed_service bank-uat transactions web gateway)"; then echo "crash: $crash"; else echo "no crash"; fi
`;

function watch(ps: string[], states: string[]): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'deploy-crash-watch-'));
  try {
    writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER);
    chmodSync(path.join(bin, 'docker'), 0o755);
    const result = spawnSync('bash', ['-c', HARNESS], {
      cwd: root,
      // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, FAKE_PS: ps.join(';'), FAKE_STATES: states.join(';') },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).to.equal(0);
    return result.stdout.trim();
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

const OLD_GATEWAY = '01b58d663bd4';
const NEW_GATEWAY = 'a1b2c3d4e5f6';
const RUNNING = ['web 00000000000a bank-uat-web-1', 'transactions 00000000000b bank-uat-transactions-1'];
const RUNNING_STATES = ['web 00000000000a running 0 0', 'transactions 00000000000b running 0 0'];

describe('deploy crash watcher while Compose recreates a container (crashed_service)', () => {
  it('does not take the stopped container being replaced for a crash', () => {
    const outcome = watch(
      [
        ...RUNNING,
        `gateway ${OLD_GATEWAY} bank-uat-gateway-1`,
        `gateway ${NEW_GATEWAY} ${OLD_GATEWAY}_bank-uat-gateway-1`,
      ],
      [...RUNNING_STATES, `gateway ${OLD_GATEWAY} exited 0 0`, `gateway ${NEW_GATEWAY} created 0 0`],
    );
    expect(outcome).to.equal('no crash');
  });

  it('still reports a container that exited with no replacement under way', () => {
    const outcome = watch(
      [...RUNNING, `gateway ${OLD_GATEWAY} bank-uat-gateway-1`],
      [...RUNNING_STATES, `gateway ${OLD_GATEWAY} exited 0 1`],
    );
    expect(outcome).to.equal(`crash: gateway exited 0 1 ${OLD_GATEWAY}`);
  });

  it('reports a crash of another service during the replacement', () => {
    const outcome = watch(
      [
        'web 00000000000a bank-uat-web-1',
        'transactions 00000000000b bank-uat-transactions-1',
        `gateway ${OLD_GATEWAY} bank-uat-gateway-1`,
        `gateway ${NEW_GATEWAY} ${OLD_GATEWAY}_bank-uat-gateway-1`,
      ],
      ['web 00000000000a restarting 3 1', 'transactions 00000000000b running 0 0', `gateway ${OLD_GATEWAY} exited 0 0`],
    );
    expect(outcome).to.equal('crash: web restarting 3 1 00000000000a');
  });
});
