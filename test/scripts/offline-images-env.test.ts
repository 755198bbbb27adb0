import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PRINTED =
  'NODE_IMAGE=bank-offline/node:24-slim\nPOSTGRES_IMAGE=bank-offline/postgres:16\nNGINX_IMAGE=bank-offline/nginx:1.22\n';

/**
 * scripts/offline-images-env.sh from a copy of scripts/ whose offline-base-images.sh is replaced
 * by `builder` (the real one takes minutes and Docker), with a `docker` first on PATH that answers
 * `image inspect` with `inspectExit`. The output file already holds an older, valid-looking content.
 */
function offlineEnv(builder: string, inspectExit: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'offline-env-'));
  cpSync(path.join(ROOT, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  writeFileSync(path.join(dir, 'scripts/offline-base-images.sh'), builder);
  chmodSync(path.join(dir, 'scripts/offline-base-images.sh'), 0o755);
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin/docker'), `#!/bin/sh\nexit ${inspectExit}\n`);
  chmodSync(path.join(dir, 'bin/docker'), 0o755);
  const file = path.join(dir, 'base-images.env');
  writeFileSync(file, 'export NODE_IMAGE=from-an-older-run\n');
  const result = spawnSync('bash', [path.join(dir, 'scripts/offline-images-env.sh'), file], {
    env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, HOME: dir },
    encoding: 'utf8',
  });
  const written = existsSync(file) ? readFileSync(file, 'utf8') : null;
  rmSync(dir, { recursive: true, force: true });
  return { ...result, written };
}

describe('scripts/offline-images-env.sh', () => {
  it('fails loudly when the build fails: its output shown, exit 1, no file left to source', () => {
    const result = offlineEnv('echo "[offline-base-images] debootstrap failed" >&2\nexit 1\n', 0);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('[offline-base-images] debootstrap failed');
    expect(result.stderr).to.match(
      /offline-base-images\.sh failed .*NODE_IMAGE, POSTGRES_IMAGE and NGINX_IMAGE are NOT set/,
    );
    expect(result.written).to.equal(null);
  });

  it('fails when an image is missing after the build', () => {
    const result = offlineEnv(`printf '${PRINTED.replace(/\n/g, '\\n')}'\n`, 1);
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('bank-offline/node:24-slim is not on this machine after the build');
    expect(result.written).to.equal(null);
  });

  it('writes the three variables to the file to source, and prints them', () => {
    const result = offlineEnv(`echo progress >&2\nprintf '${PRINTED.replace(/\n/g, '\\n')}'\n`, 0);
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(PRINTED);
    expect(result.stderr).to.contain('progress');
    expect(result.written).to.equal(PRINTED.replace(/^/gm, 'export ').replace(/export $/, ''));
  });
});
