/**
 * The database scripts on the local Swarm (PLATFORM=swarm, docs/CLUSTER.md §5), where they can be
 * checked without an engine: what they refuse before touching anything, and how a call reaches a
 * container that runs inside a node (db_docker in scripts/lib/db_backup.sh), with a fake `docker`
 * that records what it was asked.
 */
import { expect } from 'chai';
import { runWithFakeDocker, type FakeDockerRun } from '../helpers/fake-docker.js';

const CONTAINER = 'a'.repeat(64);

function bash(script: string, env: Record<string, string> = {}): FakeDockerRun {
  return runWithFakeDocker(script, (dir) => ({ BANK_STATE_DIR: dir, CLUSTER_SOCKET_DIR: dir, ...env }));
}

describe('database scripts with PLATFORM=swarm', () => {
  it('refuse, before any docker call, what the swarm does not run: UAT, a restore, an unknown platform', () => {
    const uat = bash('scripts/db-backup.sh uat', { PLATFORM: 'swarm' });
    expect(uat.status).to.equal(2);
    expect(uat.stderr).to.contain('PLATFORM=swarm runs PROD only (got uat)');
    const restore = bash('scripts/db-restore.sh prod latest', { PLATFORM: 'swarm' });
    expect(restore.status).to.equal(2);
    expect(restore.stderr).to.contain('a restore on the swarm is not scripted');
    const unknown = bash('scripts/db-standby.sh prod status', { PLATFORM: 'k8s' });
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.contain("unknown PLATFORM 'k8s' (expected compose or swarm)");
    expect([...uat.calls, ...restore.calls, ...unknown.calls]).to.deep.equal([]);
  });

  it('reach a task container through its node: docker exec NODE docker …, -i only when stdin is passed on', () => {
    const outcome = bash(`
      set -euo pipefail
      source scripts/lib/deploy_state.sh
      source scripts/lib/db_backup.sh
      db_docker exec -i -u postgres bank-node-3:${CONTAINER} psql
      db_docker inspect -f '{{.Config.Image}}' bank-node-2:${CONTAINER}
      db_docker exec local-container true
    `);
    expect(outcome.status, outcome.stderr).to.equal(0);
    expect(outcome.calls).to.deep.equal([
      `|exec -i bank-node-3 docker exec -i -u postgres ${CONTAINER} psql`,
      `|exec bank-node-2 docker inspect -f {{.Config.Image}} ${CONTAINER}`,
      '|exec local-container true',
    ]);
  });

  it('say in one line that the swarm runs no database, exit 2', () => {
    const outcome = bash('scripts/db-backup.sh prod', { PLATFORM: 'swarm' });
    expect(outcome.status).to.equal(2);
    expect(outcome.stderr).to.match(/the prod database is not running on the swarm \(service bank_db\)/);
    // It asked the manager for the tasks of db, then of the standby (a promoted one would do).
    expect(outcome.calls.map((c) => c.split(' ').slice(0, 5).join(' '))).to.deep.equal([
      '|exec -i bank-node-1 docker service',
      '|exec -i bank-node-1 docker service',
    ]);
  });
});
