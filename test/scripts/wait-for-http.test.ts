import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const script = fileURLToPath(new URL('../../scripts/wait_for_http.sh', import.meta.url));

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('bash', [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** A real HTTP server that answers 503 to the first `failures` requests, then 200. */
async function flakyServer(failures: number): Promise<{ server: Server; url: string; hits: () => number }> {
  let count = 0;
  const server = createServer((_req, res) => {
    count += 1;
    if (count <= failures) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down for maintenance');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/health`, hits: () => count };
}

describe('scripts/wait_for_http.sh', function () {
  this.timeout(20000);
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('keeps polling through failures and succeeds on the first healthy answer', async () => {
    const { server, url, hits } = await flakyServer(3);
    servers.push(server);
    const result = await run([url, '10', '0.1']);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.contain('healthy (HTTP 200)');
    expect(result.stdout).to.contain('{"status":"ok"}');
    expect(hits()).to.equal(4);
  });

  it('fails with exit 1 after the timeout and prints last status, body and elapsed time', async () => {
    const { server, url } = await flakyServer(Number.MAX_SAFE_INTEGER);
    servers.push(server);
    const result = await run([url, '2', '0.2']);
    expect(result.code).to.equal(1);
    expect(result.ms).to.be.within(1800, 6000);
    expect(result.stderr).to.match(/not healthy after 2\.\d+s/);
    expect(result.stderr).to.contain('last HTTP status: 503');
    expect(result.stderr).to.contain('last body: down for maintenance');
  });

  it('reports a refused connection as "no HTTP answer"', async () => {
    const { server, url } = await flakyServer(0);
    await new Promise((resolve) => server.close(resolve));
    const result = await run([url, '1', '0.2']);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('last HTTP status: none (no HTTP answer)');
    expect(result.stderr).to.match(/last curl error: curl: \(7\)/);
  });

  it('exits 2 on bad usage', async () => {
    expect((await run([])).code).to.equal(2);
    const notANumber = await run(['http://127.0.0.1:1/', 'soon']);
    expect(notANumber.code).to.equal(2);
    expect(notANumber.stderr).to.contain("'soon' is not a number of seconds");
  });
});
