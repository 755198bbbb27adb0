/**
 * Runs a bash script of the repository the way the deploy and database scripts run, with a fake
 * `docker` first on the PATH that logs each call ("<DOCKER_HOST>|<arguments>") before doing what
 * `fakeBody` says. For the script tests that check which docker calls a script makes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface FakeDockerRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Each docker call, "<DOCKER_HOST>|<arguments>". */
  calls: string[];
}

/** `env` gets the temporary directory (PATH, HOME, …) as `dir` to point variables into it. */
export function runWithFakeDocker(
  script: string,
  env: (dir: string) => Record<string, string>,
  fakeBody = '',
): FakeDockerRun {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-docker-'));
  try {
    const calls = path.join(dir, 'calls');
    writeFileSync(calls, '');
    writeFileSync(
      path.join(dir, 'docker'),
      `#!/usr/bin/env bash\nprintf '%s|%s\\n' "\${DOCKER_HOST:-}" "$*" >>"${calls}"\n${fakeBody}\n`,
    );
    chmodSync(path.join(dir, 'docker'), 0o755);
    const result = spawnSync('bash', ['-c', script], {
      cwd: root,
      // stdin not a socket: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir, ...env(dir) },
      encoding: 'utf8',
    });
    const recorded = readFileSync(calls, 'utf8').trim();
    return {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      calls: recorded ? recorded.split('\n') : [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
