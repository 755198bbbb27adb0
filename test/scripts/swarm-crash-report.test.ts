/**
 * What the Swarm deploy prints when a task of the new colour fails (swarm_report_crash in
 * scripts/lib/deploy_swarm.sh): the failed task's own last log lines, fetched from the manager
 * with a time limit. The cluster tier once saw "timeout: failed to run command 'sw'" there instead
 * of the release's error (sw was swarm_docker's old name: `timeout` cannot run a shell function).
 * Run as the deploy runs it, sourced by bash, with a fake `docker` that stands for
 * `docker exec bank-node-1 docker …` and records what it was asked.
 */
import { expect } from 'chai';
import { runWithFakeDocker } from '../helpers/fake-docker.js';

/** `docker exec -i bank-node-1 docker service logs …` prints two log lines. */
const FAKE_LOGS = `if [[ "$1 $2 $3 $4 $5 $6" == "exec -i bank-node-1 docker service logs" ]]; then
  echo "Error: simulated boot failure"
  echo "    at boot (/app/server.js:1:1)"
fi`;

const HARNESS = `
set -euo pipefail
ROOT_DIR="$PWD" DEPLOY_NAME=deploy CLUSTER_SOCKET_DIR="$FAKE_SOCKET_DIR"
source scripts/lib/deploy_common.sh
source scripts/lib/swarm_manager.sh
source scripts/lib/deploy_swarm.sh
swarm_report_crash "$CRASH"
`;

function report(crash: string): { stderr: string; calls: string[] } {
  // No manager socket in CLUSTER_SOCKET_DIR: the calls go through `docker exec` into the manager.
  const run = runWithFakeDocker(HARNESS, (dir) => ({ FAKE_SOCKET_DIR: dir, CRASH: crash }), FAKE_LOGS);
  expect(run.status, run.stderr).to.equal(0);
  return { stderr: run.stderr, calls: run.calls.map((call) => call.slice(call.indexOf('|') + 1)) };
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
