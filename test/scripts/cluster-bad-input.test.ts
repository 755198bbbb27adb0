import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const script = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));

/**
 * Runs scripts/cluster.sh with a `docker` that answers nothing (an engine that is not there): it
 * records each call and fails, as `docker info` does without an engine.
 */
function cluster(...args: string[]): Promise<{ code: number | null; stderr: string; calls: string[] }> {
  const bin = mkdtempSync(path.join(tmpdir(), 'cluster-bad-input-'));
  const calls = path.join(bin, 'calls');
  writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\necho "$*" >> '${calls}'\nexit 1\n`);
  chmodSync(path.join(bin, 'docker'), 0o755);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, CLUSTER_SOCKET_DIR: path.join(bin, 'socket') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const made = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [];
      rmSync(bin, { recursive: true, force: true });
      resolve({ code, stderr, calls: made });
    });
  });
}

describe('scripts/cluster.sh: bad input', () => {
  it('up without a Docker engine: one line naming what is missing, exit 1, nothing created', async () => {
    const result = await cluster('up');
    expect(result.code).to.equal(1);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.contain("no Docker engine answers ('docker info' failed)");
    expect(result.calls, 'only the engine was asked').to.deep.equal(['info']);
  });

  it('an unknown command: the usage, exit 2, Docker untouched', async () => {
    const result = await cluster('start');
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('usage: scripts/cluster.sh up|down|status');
    expect(result.calls).to.deep.equal([]);
  });
});
