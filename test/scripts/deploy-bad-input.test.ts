import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const script = fileURLToPath(new URL('../../scripts/deploy_blue_green_local.sh', import.meta.url));

/**
 * Runs the deploy script with only the given parameters. PATH starts with a directory whose
 * `docker` and `docker-compose` are tripwires (they record the call and fail): bad input must be
 * refused before the script touches Docker at all. HOME is that directory too, so the state
 * directory (~/.fintech-test: env files, locks) would appear there if anything were written.
 */
function deploy(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; dockerCalls: boolean; stateWritten: boolean }> {
  const bin = mkdtempSync(path.join(tmpdir(), 'deploy-bad-input-'));
  const calls = path.join(bin, 'calls');
  for (const tool of ['docker', 'docker-compose']) {
    writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "$0 $*" >> '${calls}'\nexit 1\n`);
    chmodSync(path.join(bin, tool), 0o755);
  }
  symlinkSync(process.execPath, path.join(bin, 'node'));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const dockerCalls = existsSync(calls);
      const stateWritten = existsSync(path.join(bin, '.fintech-test'));
      rmSync(bin, { recursive: true, force: true });
      resolve({ code, stderr, dockerCalls, stateWritten });
    });
  });
}

describe('scripts/deploy_blue_green_local.sh: bad input', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['an unknown TARGET', { TARGET: 'staging' }, /unknown TARGET 'staging'/],
    ['an unknown MODE', { TARGET: 'prod', MODE: 'docker' }, /unknown MODE 'docker'/],
    ['an unknown ACTION', { TARGET: 'prod', ACTION: 'redeploy' }, /unknown ACTION 'redeploy'/],
    ['MODE=image without IMAGE_NAME', { TARGET: 'prod', MODE: 'image', IMAGE_TAG: 'v1' }, /needs IMAGE_NAME/],
    [
      'a rollback in MODE=image without IMAGE_TAG_PREVIOUS',
      { TARGET: 'prod', ACTION: 'rollback', MODE: 'image', IMAGE_NAME: 'ghcr.io/o/bank' },
      /rollback in MODE=image needs IMAGE_TAG_PREVIOUS/,
    ],
    [
      'a UAT rollback without a previous tag',
      { TARGET: 'uat', ACTION: 'rollback' },
      /rollback of UAT needs IMAGE_TAG_PREVIOUS/,
    ],
    ['an upper-case IMAGE_NAME', { TARGET: 'prod', MODE: 'image', IMAGE_NAME: 'ghcr.io/Owner/bank' }, /lower-case/],
    ['HEALTH_TIMEOUT=0', { TARGET: 'prod', HEALTH_TIMEOUT: '0' }, /HEALTH_TIMEOUT must be at least 1 second/],
    ['RUN_SMOKE other than true/false', { TARGET: 'prod', RUN_SMOKE: 'yes' }, /RUN_SMOKE must be true or false/],
    [
      'WEB_REPLICAS=0',
      { TARGET: 'prod', WEB_REPLICAS: '0' },
      /WEB_REPLICAS must be a whole number from 1 to 8, got '0'/,
    ],
    [
      'WEB_REPLICAS=9',
      { TARGET: 'prod', WEB_REPLICAS: '9' },
      /WEB_REPLICAS must be a whole number from 1 to 8, got '9'/,
    ],
    [
      'a non-numeric TRANSACTIONS_REPLICAS',
      { TARGET: 'prod', TRANSACTIONS_REPLICAS: 'two' },
      /TRANSACTIONS_REPLICAS must be a whole number from 1 to 8, got 'two'/,
    ],
    ['replicas on UAT', { TARGET: 'uat', WEB_REPLICAS: '2' }, /WEB_REPLICAS=2: replicas apply to TARGET=prod only/],
    [
      'an unknown PLATFORM',
      { TARGET: 'prod', PLATFORM: 'k8s' },
      /unknown PLATFORM 'k8s' \(expected compose or swarm\)/,
    ],
    ['UAT on the swarm', { TARGET: 'uat', PLATFORM: 'swarm' }, /PLATFORM=swarm deploys TARGET=prod only/],
    [
      'an invalid image tag',
      { TARGET: 'prod', MODE: 'image', IMAGE_NAME: 'ghcr.io/o/bank', IMAGE_TAG: 'a b' },
      /not a valid image tag/,
    ],
  ];

  for (const [label, env, message] of cases) {
    it(`refuses ${label}: one line, exit 2, Docker and the state untouched`, async () => {
      const result = await deploy(env);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(message);
      expect(result.stderr.trim().split('\n')).to.have.length(1);
      expect(result.dockerCalls, 'docker was called').to.equal(false);
      expect(result.stateWritten, 'state directory written').to.equal(false);
    });
  }

  it('stops a swarm deploy when the cluster is not up: one line, exit 1, the state untouched', async () => {
    // The tripwire `docker` fails as an engine without the cluster's manager container would.
    const result = await deploy({ TARGET: 'prod', PLATFORM: 'swarm' });
    expect(result.code).to.equal(1);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.match(
      /the cluster is not up \(no swarm manager answers in container bank-node-1\); start it with scripts\/cluster.sh up/,
    );
    expect(result.stateWritten, 'state directory written').to.equal(false);
  });
});
