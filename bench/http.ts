/**
 * HTTP paths benchmark (not part of `npm test`): `npm run bench:http`.
 *
 * The shape of `npm start`: the database job (migrate + demo seed) on a fresh SQLite file, then
 * the transactions service and the web service natively, NODE_ENV=production, default log level,
 * each in its own process on a random free port. In the same run, a bare Node `http` server
 * answering a constant (also its own process) is the reference every figure is compared with.
 * autocannon drives each path at BENCH_CONNECTIONS connections: the reference, /health, the
 * logged-in /dashboard and /transactions (alice's session), and the transfer form POST /transfer
 * (the web form with its CSRF token and a fresh idempotency key per request, alice → bob, 0.01 €).
 * Environment: BENCH_CONNECTIONS (32), BENCH_SECONDS (8 per path, after BENCH_WARMUP_SECONDS 2),
 * BENCH_LOG_LEVEL (the default, info), BENCH_CPU_PROF (a directory: V8 CPU profiles of both
 * services, one subdirectory per service, written when they stop), BENCH_PATHS (a comma-separated
 * subset of health,dashboard,transactions,transfer, to profile one path alone; the reference
 * always runs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../test/helpers/postgres.js';
import { msPer, processCpuSeconds } from './cpu.js';
import { intEnv } from './env.js';

const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 32);
const SECONDS = intEnv('BENCH_SECONDS', 8);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL;
const PATHS = (process.env.BENCH_PATHS ?? 'health,dashboard,transactions,transfer').split(',').map((p) => p.trim());
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Target {
  /** The BENCH_PATHS name ('reference' always runs). */
  key: string;
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fresh body per request (the transfer form needs a new idempotency key each time). */
  body?: () => string;
}

interface Row {
  name: string;
  perSecond: number;
  /** CPU milliseconds per request spent by each service process (user + system), if /proc exists. */
  cpuMs: { web: number; transactions: number } | undefined;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

const BARE_SERVER = `
const http = require('node:http');
http.createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end('ok'); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

function serviceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The transfer path is measured, not its rate limit (20 a minute per session by default).
  const env: NodeJS.ProcessEnv = {
    TRANSFER_MAX_PER_SESSION: '10000000',
    TRANSFER_MAX_PER_USER: '10000000',
    ...process.env,
    NODE_ENV: 'production',
    ...extra,
  };
  if (LOG_LEVEL) env.LOG_LEVEL = LOG_LEVEL;
  else delete env.LOG_LEVEL;
  return env;
}

function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // One directory per service: tsx's loader thread writes a profile of its own beside the main thread's.
  const profile =
    process.env.BENCH_CPU_PROF && name !== 'bare'
      ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_CPU_PROF, name)}`]
      : [];
  const child = spawn(process.execPath, [...profile, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`${name} exited (${signal ?? code}): ${stderr}`);
  });
  return child;
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 in time`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The cookies a response sets, as a Cookie header merged with the ones already held. */
function mergeCookies(jar: Map<string, string>, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair && eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token in the page');
  return match[1];
}

/** Logs alice in through the real form (one scrypt verification) and returns her cookies and CSRF token. */
async function logIn(web: string): Promise<{ cookie: string; csrf: string; account: string }> {
  const jar = new Map<string, string>();
  const form = await fetch(`${web}/login`);
  mergeCookies(jar, form);
  const body = new URLSearchParams({ _csrf: csrfOf(await form.text()), username: 'alice', password: 'password123' });
  const res = await fetch(`${web}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    body: body.toString(),
  });
  if (res.status !== 302 && res.status !== 303) throw new Error(`login answered ${res.status}`);
  mergeCookies(jar, res);
  const page = await fetch(`${web}/transfer`, { headers: { cookie: cookieHeader(jar) }, redirect: 'manual' });
  if (page.status !== 200) throw new Error(`the transfer form answered ${page.status} after login`);
  mergeCookies(jar, page);
  const html = await page.text();
  const account = /<option value="(FT\d+)"/.exec(html)?.[1];
  if (!account) throw new Error('no account in the transfer form');
  return { cookie: cookieHeader(jar), csrf: csrfOf(html), account };
}

function load(target: Target, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: target.url,
    method: target.method ?? 'GET',
    headers: target.headers,
    connections: CONNECTIONS,
    duration: seconds,
    requests: target.body
      ? [{ setupRequest: (req) => ({ ...req, body: (target.body as () => string)() }) }]
      : undefined,
  });
}

async function measure(target: Target, services: { web: ChildProcess; transactions: ChildProcess }): Promise<Row> {
  await load(target, WARMUP_SECONDS);
  const cpu = () => ({
    web: processCpuSeconds(services.web.pid),
    transactions: processCpuSeconds(services.transactions.pid),
  });
  const before = cpu();
  const result = await load(target, SECONDS);
  const after = cpu();
  const perRequest = (a: number | undefined, b: number | undefined) => msPer(a, b, result.requests.total);
  const statuses: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stats?.count ?? 0;
  return {
    name: target.name,
    perSecond: result.requests.average,
    cpuMs:
      target.key === 'reference'
        ? undefined
        : {
            web: perRequest(before.web, after.web),
            transactions: perRequest(before.transactions, after.transactions),
          },
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'fintech-bench-http-'));
const [barePort, webPort, transactionsPort] = [await freePort(), await freePort(), await freePort()];
const common = {
  DATABASE_URL: `sqlite:///${join(dir, 'bench.db')}`,
  SECRET_KEY: randomBytes(32).toString('hex'),
  SERVICE_SIGNING_SECRET: randomBytes(32).toString('hex'),
};
const children: ChildProcess[] = [];
const rows: Row[] = [];
const loadBefore = loadavg()[0] ?? 0;
try {
  const job = spawnSync(process.execPath, ['--import', 'tsx', 'services/jobs/src/cli.ts', 'migrate', 'seed'], {
    cwd: ROOT,
    env: serviceEnv(common),
    encoding: 'utf8',
  });
  if (job.status !== 0) throw new Error(`the database job failed: ${job.stderr}`);

  const bare = startProcess('bare', ['-e', BARE_SERVER], { ...process.env, PORT: String(barePort) });
  const transactions = startProcess(
    'transactions',
    ['--import', 'tsx', 'services/transactions/src/server.ts'],
    serviceEnv({ ...common, HOST: '127.0.0.1', PORT: String(transactionsPort) }),
  );
  const web = startProcess(
    'web',
    ['--import', 'tsx', 'services/web/src/server.ts'],
    serviceEnv({
      ...common,
      HOST: '127.0.0.1',
      PORT: String(webPort),
      TRANSACTIONS_URL: `http://127.0.0.1:${transactionsPort}`,
    }),
  );
  children.push(bare, transactions, web);
  const webBase = `http://127.0.0.1:${webPort}`;
  await waitFor(`http://127.0.0.1:${barePort}/`, bare);
  await waitFor(`http://127.0.0.1:${transactionsPort}/ready`, transactions);
  await waitFor(`${webBase}/ready`, web);
  const { cookie, csrf, account } = await logIn(webBase);

  const targets: Target[] = [
    { key: 'reference', name: 'bare Node http (reference)', url: `http://127.0.0.1:${barePort}/` },
    { key: 'health', name: 'GET /health', url: `${webBase}/health` },
    { key: 'dashboard', name: 'GET /dashboard (logged in)', url: `${webBase}/dashboard`, headers: { cookie } },
    { key: 'transactions', name: 'GET /transactions (logged in)', url: `${webBase}/transactions`, headers: { cookie } },
    {
      key: 'transfer',
      name: 'POST /transfer (web form, CSRF)',
      url: `${webBase}/transfer`,
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: () =>
        new URLSearchParams({
          _csrf: csrf,
          idempotencyKey: randomUUID(),
          fromAccount: account,
          to: 'bob',
          amount: '0.01',
          label: 'bench',
        }).toString(),
    },
  ];
  for (const target of targets) {
    if (target.key === 'reference' || PATHS.includes(target.key))
      rows.push(await measure(target, { web, transactions }));
  }
} finally {
  for (const child of children.reverse()) await stop(child);
  rmSync(dir, { recursive: true, force: true });
}

const reference = rows[0]?.perSecond ?? 0;
console.log(
  `\nHTTP paths, ${CONNECTIONS} connections, ${SECONDS} s each after ${WARMUP_SECONDS} s of warm-up; both services ` +
    `natively on SQLite, NODE_ENV=production, LOG_LEVEL=${LOG_LEVEL ?? 'default (info)'}; ${cpus().length} CPUs, ` +
    `1-min load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after\n`,
);
console.log(
  'path                               req/s   p50 ms   p99 ms  share of bare Node  CPU ms/req web + transactions  statuses',
);
for (const r of rows) {
  const share = reference > 0 ? (100 * r.perSecond) / reference : 0;
  console.log(
    [
      r.name.padEnd(32),
      r.perSecond.toFixed(0).padStart(8),
      r.p50.toFixed(1).padStart(8),
      r.p99.toFixed(1).padStart(8),
      `${share.toFixed(share < 10 ? 2 : 1)} %`.padStart(19),
      (r.cpuMs ? `${r.cpuMs.web.toFixed(2)} + ${r.cpuMs.transactions.toFixed(2)}` : '').padStart(29),
      ' ' + JSON.stringify(r.statuses) + (r.errors > 0 ? ` errors: ${r.errors}` : ''),
    ].join(' '),
  );
}
if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
