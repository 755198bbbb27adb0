/**
 * The deploy's run state and helper names (scripts/deploy_blue_green_local.sh and the files of
 * scripts/lib it sources). The script resolves its settings once, makes the ones nothing changes
 * afterwards readonly, then takes the lock of the target it was given: a run refused by the lock
 * went through all of that. The helpers once had two- and three-letter names (pc, pr, gx, cid,
 * cids, uc, sw, sgx); a call left with an old name only fails when that path runs, so the old
 * names are checked here, where no Docker is needed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

const OLD_NAMES = ['pc', 'pr', 'gx', 'cid', 'cids', 'uc', 'sw', 'sgx'];
const NEW_NAMES = [
  'prod_compose',
  'prod_compose_release',
  'prod_container',
  'prod_containers',
  'gateway_exec',
  'uat_compose',
  'swarm_docker',
  'swarm_gateway_exec',
  'swarm_gateway_container',
  'swarm_other_colour',
];

/** The libraries in the order the deploy script sources them. */
const SOURCED = `
set -euo pipefail
ROOT_DIR="$PWD"
for lib in scripts/lib/compose.sh scripts/ci/lib.sh scripts/lib/deploy_params.sh scripts/lib/deploy_state.sh \\
  scripts/lib/deploy_common.sh scripts/lib/deploy_uat.sh scripts/lib/deploy_prod.sh scripts/gateway-tls.sh \\
  scripts/lib/prod_users.sh scripts/lib/db_backup.sh scripts/lib/deploy_backup.sh scripts/lib/deploy_swarm.sh; do
  source "$lib"
done
declare -F | awk '{ print $3 }'
`;

/** Every *.sh file under scripts/, relative to the repository. */
function shellFiles(dir = 'scripts'): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return shellFiles(relative);
    return entry.name.endsWith('.sh') ? [relative] : [];
  });
}

describe('deploy scripts: helpers named for what they do', () => {
  it('defines the named helpers and none of the old short names once every library is sourced', () => {
    const result = spawnSync('bash', ['-c', SOURCED], {
      cwd: root,
      // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).to.equal(0);
    const defined = result.stdout.split('\n');
    expect(defined).to.include.members(NEW_NAMES);
    expect(defined.filter((name) => OLD_NAMES.includes(name))).to.deep.equal([]);
  });

  it('calls none of the old short names in any script (comments aside)', () => {
    // OLD_NAMES as a word on its own: not part of a longer name, an option (--pr), a path or a
    // variable ($pc).
    const call = /(?<![\w$./-])(pc|pr|gx|cids?|uc|sw|sgx)(?![\w-])/;
    const hits = shellFiles().flatMap((file) =>
      readFileSync(path.join(root, file), 'utf8')
        .split('\n')
        .map((line, index) => ({ line, where: `${file}:${index + 1}` }))
        .filter(({ line }) => !line.trimStart().startsWith('#') && call.test(line.replace(/'[^']*'/g, "''")))
        .map(({ where, line }) => `${where}: ${line.trim()}`),
    );
    expect(hits).to.deep.equal([]);
  });
});

describe('deploy_blue_green_local.sh: a run refused by the lock of its target', () => {
  it('resolves and freezes its settings, then is refused (exit 3) by the lock of TARGET', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'deploy-run-state-'));
    try {
      // docker is a tripwire: nothing before the lock may need it on PROD with Compose.
      writeFileSync(path.join(dir, 'docker'), '#!/bin/sh\necho "docker $*" >&2\nexit 1\n');
      chmodSync(path.join(dir, 'docker'), 0o755);
      // Another deploy holds <state>/prod.lock (flock on a descriptor of this shell, which the
      // deploy's own descriptor on the same file conflicts with).
      const harness = `
        mkdir -p "$BANK_STATE_DIR"
        exec 8>>"$BANK_STATE_DIR/prod.lock"
        flock -n 8 || exit 99
        echo 4242 >"$BANK_STATE_DIR/prod.lock.pid"
        bash scripts/deploy_blue_green_local.sh
      `;
      const result = spawnSync('bash', ['-c', harness], {
        cwd: root,
        env: {
          PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
          HOME: dir,
          BANK_STATE_DIR: path.join(dir, 'state'),
          TARGET: 'prod',
          IMAGE_TAG: 'v1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
      expect(result.status, result.stderr).to.equal(3);
      expect(result.stderr).to.match(
        /another deploy of prod is running \(lock .*\/state\/prod\.lock held by pid 4242\); refused/,
      );
      expect(result.stderr).not.to.contain('readonly variable');
      expect(result.stderr).not.to.contain('unbound variable');
      expect(result.stderr).not.to.match(/^docker /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
