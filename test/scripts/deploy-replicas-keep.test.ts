/**
 * PROD replica counts the deploy is not given: resolve_replicas (scripts/lib/deploy_prod.sh)
 * counts the live colour's running containers and deploy_params_keep_replicas
 * (scripts/lib/deploy_params.sh) applies the rule: a given count stays, an empty one becomes what
 * the live colour runs now, 1 when none runs, more than 8 is refused. Both run here as the deploy
 * runs them, sourced by bash, with a fake `docker` whose `docker ps` lists FAKE_RUNNING's
 * containers ("web_blue=2 transactions_blue=2") and records each service it was asked about.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `docker ps … --filter label=com.docker.compose.service=S --format …`: one line per container of S. */
const FAKE_DOCKER = `#!/usr/bin/env bash
service=""
for arg in "$@"; do
  [[ "$arg" == label=com.docker.compose.service=* ]] && service="\${arg#*service=}"
done
echo "$service" >>"$FAKE_CALLS"
for entry in $FAKE_RUNNING; do
  [[ "\${entry%=*}" == "$service" ]] || continue
  for ((i = 1; i <= \${entry#*=}; i++)); do
    printf '%s %012d bank-prod-%s-%d\\n' "$service" "$i" "$service" "$i"
  done
done
# A container Compose is replacing: renamed "<12-hex id>_<name>", neither a replica nor counted.
[[ -z "$FAKE_REPLACED" || "$FAKE_REPLACED" != "$service" ]] || printf '%s 0000000000ff 0123456789ab_bank-prod-%s-1\\n' "$service" "$service"
`;

/** What the deploy does with these parameters before it starts a colour, `live` being the live one. */
const HARNESS = `
set -euo pipefail
source scripts/lib/deploy_params.sh
source scripts/lib/deploy_common.sh
source scripts/lib/deploy_prod.sh
deploy_params_resolve "$PWD"
if [[ "$TARGET" == prod ]]; then resolve_replicas "$1"; fi
echo "WEB_REPLICAS=$WEB_REPLICAS TRANSACTIONS_REPLICAS=$TRANSACTIONS_REPLICAS"
bash -c 'echo "exported: $WEB_REPLICAS $TRANSACTIONS_REPLICAS"'
`;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  asked: string[];
}

function resolve(live: string, env: Record<string, string>, running = '', replaced = ''): Outcome {
  const bin = mkdtempSync(path.join(tmpdir(), 'deploy-replicas-keep-'));
  const calls = path.join(bin, 'calls');
  try {
    writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER);
    chmodSync(path.join(bin, 'docker'), 0o755);
    const result = spawnSync('bash', ['-c', HARNESS, 'harness', live], {
      cwd: root,
      // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: bin,
        IMAGE_TAG: 'v1',
        FAKE_CALLS: calls,
        FAKE_RUNNING: running,
        FAKE_REPLACED: replaced,
        ...env,
      },
      encoding: 'utf8',
    });
    const asked = existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
    return { code: result.status, stdout: result.stdout, stderr: result.stderr, asked };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('PROD replicas not given: kept from the live colour (deploy_params_keep_replicas)', () => {
  it('keeps what the live colour runs, says so in the log, and exports it', () => {
    const outcome = resolve('blue', { TARGET: 'prod' }, 'web_blue=2 transactions_blue=2 web_green=5');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stderr).to.contain('replicas: web 2 (kept from blue), transactions 2 (kept from blue)');
    expect(outcome.stdout).to.contain('WEB_REPLICAS=2 TRANSACTIONS_REPLICAS=2');
    expect(outcome.stdout, 'compose and the checks see the resolved counts').to.contain('exported: 2 2');
  });

  it('counts each service on its own: 3 web and 1 transactions stay 3 and 1', () => {
    const outcome = resolve('green', { TARGET: 'prod' }, 'web_green=3 transactions_green=1');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stderr).to.contain('replicas: web 3 (kept from green), transactions 1 (kept from green)');
  });

  it('takes an empty value (what $GITHUB_ENV carries from an empty input) as not given', () => {
    const outcome = resolve(
      'blue',
      { TARGET: 'prod', WEB_REPLICAS: '', TRANSACTIONS_REPLICAS: '' },
      'web_blue=2 transactions_blue=2',
    );
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout).to.contain('WEB_REPLICAS=2 TRANSACTIONS_REPLICAS=2');
  });

  it('lets a given count win without counting that service', () => {
    const outcome = resolve('blue', { TARGET: 'prod', WEB_REPLICAS: '4' }, 'web_blue=2 transactions_blue=2');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stderr).to.contain('replicas: web 4 (given), transactions 2 (kept from blue)');
    expect(outcome.asked).to.deep.equal(['transactions_blue']);
  });

  it('starts 1 of each when nothing runs yet (a first deploy)', () => {
    const outcome = resolve('blue', { TARGET: 'prod' });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stderr).to.contain('replicas: web 1 (none running in blue), transactions 1 (none running in blue)');
    expect(outcome.stdout).to.contain('WEB_REPLICAS=1 TRANSACTIONS_REPLICAS=1');
  });

  it('does not count a container Compose is replacing', () => {
    const outcome = resolve('blue', { TARGET: 'prod' }, 'web_blue=2 transactions_blue=2', 'web_blue');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout).to.contain('WEB_REPLICAS=2 ');
  });

  it('refuses to keep more containers than a deploy may start: one line, exit 2', () => {
    const outcome = resolve('blue', { TARGET: 'prod' }, 'web_blue=9 transactions_blue=2');
    expect(outcome.code).to.equal(2);
    expect(outcome.stderr.trim().split('\n'), outcome.stderr).to.have.length(1);
    expect(outcome.stderr).to.contain('web_blue runs 9 containers, more than the 8 a deploy starts; give WEB_REPLICAS');
  });

  it('still refuses a bad given count before counting anything', () => {
    const outcome = resolve('blue', { TARGET: 'prod', TRANSACTIONS_REPLICAS: '9' }, 'web_blue=2');
    expect(outcome.code).to.equal(2);
    expect(outcome.stderr).to.match(/TRANSACTIONS_REPLICAS must be a whole number from 1 to 8, got '9'/);
    expect(outcome.asked).to.deep.equal([]);
  });

  it('UAT: unset means 1, and nothing is counted', () => {
    const outcome = resolve('', { TARGET: 'uat' }, 'web_blue=2');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout).to.contain('WEB_REPLICAS=1 TRANSACTIONS_REPLICAS=1');
    expect(outcome.asked).to.deep.equal([]);
  });
});
