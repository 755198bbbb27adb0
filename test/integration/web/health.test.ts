import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb } from '#shared/db.js';
import { migrate, TEST_ENV } from '../../helpers/fixtures.js';
import { freePort } from '../../helpers/postgres.js';

/**
 * The original spec's integration test: GET ${BASE_URL}/health. Without BASE_URL it migrates a
 * throw-away SQLite file (the migrate job), starts the real web server (server.ts) on a free port
 * itself, and stops it with SIGTERM afterwards, expecting a clean exit.
 */
describe('health integration (GET /health over real HTTP)', function () {
  this.timeout(60_000);
  const given = process.env.BASE_URL;
  let baseUrl = given ?? '';
  let server: ChildProcess | undefined;
  let dir = '';
  let output = '';

  before(async () => {
    if (given) return;
    dir = mkdtempSync(join(tmpdir(), 'fintech-health-'));
    const databaseUrl = `sqlite:///${join(dir, 'health.db')}`;
    const db = createDb(databaseUrl);
    await migrate(db);
    await db.destroy();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // No coverage from the child (Node copies NODE_V8_COVERAGE into children unless the env sets
    // it): c8 would merge its coverage of the same files, transformed separately by tsx, into the
    // test process's and garble both.
    server = spawn(process.execPath, ['--import', 'tsx', 'services/web/src/server.ts'], {
      env: {
        ...process.env,
        NODE_V8_COVERAGE: '',
        ...TEST_ENV,
        LOG_LEVEL: 'info',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (server.exitCode !== null) throw new Error(`web server exited early:\n${output}`);
      if (output.includes('web service listening')) return;
      await sleep(100);
    }
    throw new Error(`web server did not start in time:\n${output}`);
  });

  after(async () => {
    if (!server) return;
    const exited = new Promise<number | null>((resolve) => server?.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    expect(code, `graceful shutdown exit code\n${output}`).to.equal(0);
  });

  it('GET ${BASE_URL}/health returns 200 and {"status":"ok"}', async () => {
    const res = await fetch(`${baseUrl}/health`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.contain('application/json');
    expect(await res.json()).to.deep.equal({ status: 'ok' });
  });

  // Only when we started the server ourselves can we read its log lines.
  if (given) return;
  it('logs carry the request id of the request', async () => {
    await fetch(`${baseUrl}/login`, { headers: { 'X-Request-Id': 'health-test-42' } });
    await sleep(200);
    expect(output).to.match(/"requestId":"health-test-42"[^\n]*"path":"\/login"/);
  });
});
