/**
 * Logged-in GET /dashboard through the PROD gateway with 1, then 2 web replicas of the active
 * colour, in one run: req/s, p50/p99 and the ratio 2 replicas / 1 replica (`npm run
 * bench:replicas`, not part of the tests). Needs a running PROD stack (deployed by
 * scripts/deploy_blue_green_local.sh) and the env file it was deployed with (ENV_FILE, default
 * ${BANK_STATE_DIR:-~/.fintech-test}/prod.env, the deploy script's); puts the number of web
 * replicas back as it found it.
 *
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 npm run bench:replicas
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { idsOf, serviceContainersArgs } from '../test/e2e/helpers/containers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE_URL = 'http://localhost:5002';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** The deploy script's state directory (scripts/lib/deploy_state.sh), where PROD's env file lives. */
const STATE_DIR = process.env.BANK_STATE_DIR || path.join(homedir(), '.fintech-test');
const ENV_FILE = process.env.ENV_FILE || path.join(STATE_DIR, 'prod.env');

function sh(file: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(file, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ENV_FILE, ...env } });
}

const containers = (service: string): string[] => idsOf(sh('docker', serviceContainersArgs('bank-prod', service)));

const gateway = () => containers('gateway')[0] ?? '';
const gatewayExec = (...args: string[]) => sh('docker', ['exec', gateway(), ...args]).trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the active colour's web service with `count` replicas and points the gateway at all of them. */
async function scaleWeb(colour: string, count: number): Promise<void> {
  const [first] = containers(`web_${colour}`);
  const image = sh('docker', ['inspect', '-f', '{{.Config.Image}}', first!]).trim();
  const [, name, tag] = /^(.*)-web:(.*)$/.exec(image) ?? [];
  if (!name || !tag) throw new Error(`unexpected web image ${image}`);
  sh(
    'bash',
    [
      'scripts/lib/compose.sh',
      '-p',
      'bank-prod',
      '-f',
      'compose/docker-compose.prod.yml',
      'up',
      '-d',
      '--no-build',
      '--no-deps',
      '--no-recreate',
      '--scale',
      `web_${colour}=${count}`,
      `web_${colour}`,
    ],
    { IMAGE_NAME: name, IMAGE_TAG: tag },
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    const healthy = containers(`web_${colour}`).filter(
      (id) => sh('docker', ['inspect', '-f', '{{.State.Health.Status}}', id]).trim() === 'healthy',
    );
    if (healthy.length === count && containers(`web_${colour}`).length === count) break;
    if (Date.now() > deadline) throw new Error(`web_${colour} did not reach ${count} healthy replicas`);
    await sleep(500);
  }
  gatewayExec('set-upstream', `web_${colour}`, colour);
  const loaded = gatewayExec('cat', '/tmp/nginx/upstream.addr').split(' ').filter(Boolean).length;
  if (loaded !== count) throw new Error(`the gateway loaded ${loaded} web addresses, expected ${count}`);
}

function send(agent: Agent, method: string, pathname: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const req = request(new URL(pathname, BASE_URL), { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

async function login(user: string): Promise<string> {
  const agent = new Agent();
  const form = await send(agent, 'GET', '/login', {});
  const csrf = /name="_csrf"\s+value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const cookie = (form.headers['set-cookie'] as string[] | undefined)?.map((c) => c.split(';')[0]).join('; ') ?? '';
  const payload = new URLSearchParams({ username: user, password: 'password123', _csrf: csrf }).toString();
  const answer = await send(
    agent,
    'POST',
    '/login',
    { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(payload.length) },
    payload,
  );
  if (answer.status !== 302) throw new Error(`login of ${user}: HTTP ${answer.status}`);
  return (answer.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
}

/** CONNECTIONS keep-alive workers on GET /dashboard for SECONDS: req/s, p50, p99, errors. */
async function measure(cookie: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const start = performance.now();
      try {
        const answer = await send(agent, 'GET', '/dashboard', { cookie });
        if (answer.status === 200) latencies.push(performance.now() - start);
        else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { rps: latencies.length / SECONDS, p50: at(0.5), p99: at(0.99), errors };
}

async function main(): Promise<void> {
  if (!existsSync(ENV_FILE)) {
    throw new Error(`no PROD env file at ${ENV_FILE}: set BANK_STATE_DIR (or ENV_FILE) as for the deploy`);
  }
  const [, colour] = gatewayExec('set-upstream', '--current').split(' ');
  if (colour !== 'blue' && colour !== 'green') throw new Error('PROD is not running (no active colour)');
  const initial = containers(`web_${colour}`).length;
  const cookie = await login('alice');
  const results: Record<number, Awaited<ReturnType<typeof measure>>> = {};
  try {
    for (const count of [1, 2]) {
      await scaleWeb(colour, count);
      await measure(cookie); // warm-up: JIT, pools, keep-alive sockets
      results[count] = await measure(cookie);
    }
  } finally {
    await scaleWeb(colour, initial);
  }
  console.log(`GET /dashboard through ${BASE_URL}, ${CONNECTIONS} connections, ${SECONDS} s each, web_${colour}:`);
  console.log('| web replicas | req/s | p50 | p99 | errors |');
  console.log('|---|---|---|---|---|');
  for (const [count, r] of Object.entries(results)) {
    console.log(`| ${count} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.errors} |`);
  }
  console.log(`ratio 2 replicas / 1 replica: ${(results[2]!.rps / results[1]!.rps).toFixed(2)}`);
}

await main();
