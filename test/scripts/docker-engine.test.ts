import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const script = fileURLToPath(new URL('../../scripts/docker-engine.sh', import.meta.url));

/** The real tools the script may use; `docker`, `dockerd`, `apt-get`, `uname` are fakes per case. */
const REAL_TOOLS = [
  'bash',
  'sh',
  'grep',
  'sed',
  'cat',
  'cp',
  'chmod',
  'mktemp',
  'seq',
  'sleep',
  'rm',
  'mkdir',
  'tail',
  'env',
  'id',
  'nohup',
];

interface Machine {
  /** `docker info`: answers, refuses the socket, or finds no daemon; absent: no docker CLI at all. */
  docker?: 'answers' | 'denied' | 'no-daemon';
  /** The OS `uname -s` reports. */
  os?: 'Linux' | 'Darwin';
  wsl?: boolean;
  dockerd?: boolean;
}

interface Outcome {
  code: number | null;
  stderr: string;
  aptCalls: string[];
}

const FAKE_DOCKER = `#!/bin/bash
state="$(cat "$FAKE_STATE/docker")"
case "$1 $2" in
  "info "*)
    case "$state" in
      answers) [[ "$2" == --format ]] && echo "Fake OS" || echo "Server Version: 99.0"; exit 0 ;;
      denied) echo "permission denied while trying to connect to the Docker daemon socket" >&2; exit 1 ;;
      *) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1 ;;
    esac ;;
  "version --format") echo "99.0" ;;
  "compose version") [[ "$3" == --short ]] && echo "2.99.0" || echo "Docker Compose version 2.99.0" ;;
  *) echo "fake docker: unexpected $*" >&2; exit 3 ;;
esac
`;

function write(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** Runs scripts/docker-engine.sh on a machine made of fakes; PATH holds nothing else. */
function runOn(machine: Machine): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'docker-engine-'));
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  for (const tool of REAL_TOOLS) {
    const real = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((p) => existsSync(p));
    if (real) symlinkSync(real, path.join(bin, tool));
  }
  write(path.join(bin, 'uname'), `#!/bin/sh\n[ "$1" = -m ] && echo x86_64 || echo ${machine.os ?? 'Linux'}\n`);
  write(path.join(bin, 'sudo'), '#!/bin/sh\nexec "$@"\n');
  // apt-get records its calls; installing docker.io brings a CLI and a dockerd.
  write(
    path.join(bin, 'apt-get'),
    `#!/bin/bash\necho "$*" >> "$FAKE_STATE/apt"\nif [[ "$*" == *" install "*docker.io* ]]; then\n  cp "$FAKE_STATE/docker.fake" "$FAKE_BIN/docker"; printf '#!/bin/sh\\necho answers > "$FAKE_STATE/docker"\\n' > "$FAKE_BIN/dockerd"; chmod +x "$FAKE_BIN/docker" "$FAKE_BIN/dockerd"\nfi\n`,
  );
  writeFileSync(path.join(state, 'docker.fake'), FAKE_DOCKER);
  writeFileSync(path.join(state, 'docker'), machine.docker ?? 'no-daemon');
  if (machine.docker) write(path.join(bin, 'docker'), FAKE_DOCKER);
  if (machine.dockerd) write(path.join(bin, 'dockerd'), '#!/bin/sh\necho answers > "$FAKE_STATE/docker"\n');
  const procVersion = path.join(state, 'proc-version');
  writeFileSync(
    procVersion,
    machine.wsl ? 'Linux version 5.15.153.1-microsoft-standard-WSL2\n' : 'Linux version 6.1.0-amd64\n',
  );

  return new Promise((resolve, reject) => {
    const child = spawn(path.join(bin, 'bash'), [script], {
      env: {
        PATH: bin,
        HOME: dir,
        FAKE_STATE: state,
        FAKE_BIN: bin,
        DOCKER_ENGINE_PROC_VERSION: procVersion,
        DOCKERD_LOG: path.join(state, 'dockerd.log'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const aptFile = path.join(state, 'apt');
      const aptCalls = existsSync(aptFile) ? readFileSync(aptFile, 'utf8').trim().split('\n') : [];
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stderr, aptCalls });
    });
  });
}

const lines = (text: string): string[] => text.trim().split('\n').filter(Boolean);

describe('scripts/docker-engine.sh: finds the engine before installing anything', function () {
  this.timeout(20_000);

  it('uses an engine that answers `docker info` (Docker Desktop, a GitHub runner) and installs nothing', async function () {
    const { code, stderr, aptCalls } = await runOn({ docker: 'answers' });
    expect(code, stderr).to.equal(0);
    expect(aptCalls).to.deep.equal([]);
    expect(lines(stderr)).to.deep.equal([
      '[docker-engine] engine: 99.0 (Fake OS); compose: docker compose 2.99.0 (v2)',
    ]);
  });

  it('on macOS without a running Docker Desktop: one line saying what to start, exit 1, nothing installed', async function () {
    const { code, stderr, aptCalls } = await runOn({ os: 'Darwin', docker: 'no-daemon' });
    expect(code).to.equal(1);
    expect(aptCalls).to.deep.equal([]);
    expect(lines(stderr)).to.have.length(1);
    expect(stderr).to.contain('Docker Desktop for Mac');
  });

  it("in WSL with only Docker Desktop's CLI and no engine answering: points to the WSL integration, installs nothing", async function () {
    const { code, stderr, aptCalls } = await runOn({ wsl: true, docker: 'no-daemon' });
    expect(code).to.equal(1);
    expect(aptCalls).to.deep.equal([]);
    expect(lines(stderr)).to.have.length(1);
    expect(stderr).to.contain('WSL integration');
  });

  it('when the socket refuses the user: says how to get access instead of installing a second engine', async function () {
    const { code, stderr, aptCalls } = await runOn({ docker: 'denied', dockerd: true });
    expect(code).to.equal(1);
    expect(aptCalls).to.deep.equal([]);
    expect(lines(stderr)).to.have.length(1);
    expect(stderr).to.contain('usermod -aG docker');
  });

  it('starts an installed but stopped dockerd without installing anything', async function () {
    const { code, stderr, aptCalls } = await runOn({ docker: 'no-daemon', dockerd: true });
    expect(code, stderr).to.equal(0);
    expect(aptCalls).to.deep.equal([]);
    expect(stderr).to.contain('starting dockerd in the background');
  });

  it("on a Linux host with no engine at all: says so, then installs Debian's docker.io and starts it", async function () {
    const { code, stderr, aptCalls } = await runOn({});
    expect(code, stderr).to.equal(0);
    expect(lines(stderr)[0]).to.equal(
      "[docker-engine] no Docker engine on this Linux host: installing Debian's docker.io (engine and CLI)",
    );
    expect(aptCalls.some((call) => / install .*docker\.io/.test(call))).to.equal(true);
    expect(lines(stderr).at(-1)).to.contain('compose: docker compose 2.99.0 (v2)');
  });
});
