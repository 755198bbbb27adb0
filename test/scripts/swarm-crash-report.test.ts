/**
 * What the Swarm deploy prints when a task of the new colour fails (swarm_report_crash in
 * scripts/lib/deploy_swarm.sh): the failed task's own last log lines, fetched from the manager
 * with a time limit. The cluster tier once saw "timeout: failed to run command 'sw'" there instead
 * of the release's error. Run as the deploy runs it, sourced by bash, with a fake `docker` that
 * stands for `docker exec bank-node-1 docker …` and records what it was asked.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Logs the arguments; `docker exec -i bank-node-1 docker service logs …` prints two log lines. */
const FAKE_DOCKER = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$FAKE_CALLS"
if [[ "$1 $2 $3 $4 $5 $6" == "exec -i bank-node-1 docker service logs" ]]; then
  echo "Error: simulated boot failure"
  echo "    at boot (/app/server.js:1:1)"
fi
`;

const HARNESS = `
set -euo pipefail
ROOT_DIR="$PWD" DEPLOY_NAME=deploy CLUSTER_SOCKET_DIR="$FAKE_SOCKET_DIR"
source scripts/lib/deploy_common.sh
source scripts/lib/swarm_manager.sh
source scripts/lib/deploy_swarm.sh
swarm_report_crash "$CRASH"
`;

function report(crash: string): { stderr: string; calls: string[] } {
  const bin = mkdtempSync(path.join(tmpdir(), 'swarm-crash-report-'));
  try {
    writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER);
    chmodSync(path.join(bin, 'docker'), 0o755);
    const calls = path.join(bin, 'calls');
    writeFileSync(calls, '');
    const result = spawnSync('bash', ['-c', HARNESS], {
      cwd: root,
      // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      // No manager socket in FAKE_SOCKET_DIR: the calls go through `docker exec` into the manager.
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, FAKE_CALLS: calls, FAKE_SOCKET_DIR: bin, CRASH: crash },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).to.equal(0);
    return { stderr: result.stderr, calls: readFileSync(calls, 'utf8').trim().split('\n') };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('Swarm deploy: the report of a task that failed (swarm_report_crash)', () => {
  it("prints the failed task's own last log lines, each marked with its service", () => {
    const { stderr, calls } = report('web_green xaksghxzjuwn Failed: "task: non-zero exit (1)"');
    expect(stderr).to.contain('web_green crashed: task xaksghxzjuwn (Failed: "task: non-zero exit (1)")');
    expect(stderr).to.contain('  web_green | Error: simulated boot failure');
    expect(stderr).to.contain('  web_green |     at boot (/app/server.js:1:1)');
    expect(calls).to.deep.equal(['exec -i bank-node-1 docker service logs --tail 20 --raw xaksghxzjuwn']);
  });

  it("falls back to the service's log when the failure names no task", () => {
    const { stderr, calls } = report('transactions_blue - update rollback_started');
    expect(stderr).to.contain('transactions_blue crashed: task - (update rollback_started)');
    expect(stderr).to.contain('  transactions_blue | Error: simulated boot failure');
    expect(calls).to.deep.equal(['exec -i bank-node-1 docker service logs --tail 20 --raw bank_transactions_blue']);
  });
});
