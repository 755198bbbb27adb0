/**
 * The one fixtures module: services started for real on a real database, users and accounts made
 * the way the services make them, and a signed client for the transactions API.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { pino } from 'pino';
import request from 'supertest';
import { migrateDatabase } from '#jobs/migrate.js';
import { seedDatabase } from '#jobs/seed.js';
import { formatCents, parseAmount } from '#shared/contract/money.js';
import { createDb } from '#shared/db.js';
import { DEV_SIGNING_SECRET } from '#shared/config.js';
import { signatureHeaders, type SigningKey } from '#shared/signing.js';
import { createApp as createTransactionsApp } from '#transactions/app.js';
import { loadTransactionsConfig } from '#transactions/config.js';
import { openCurrentAccount, openPrimaryAccount, type AccountRow } from '#transactions/ledger/accounts.js';
import { executeMovement } from '#transactions/ledger/transfers.js';
import { createApp as createWebApp, createHasher } from '#web/app.js';
import type { PasswordHasher } from '#web/auth/passwords.js';
import { insertUser } from '#web/auth/users.js';
import { loadWebConfig, type WebConfig } from '#web/config.js';

export const silentLogger = pino({ level: 'silent' });

/** Test-only low scrypt cost: the parameters are exercised, the seconds are not needed. */
export const TEST_ENV = {
  NODE_ENV: 'test',
  SCRYPT_LOG_N: '10',
  SCRYPT_R: '8',
  SCRYPT_P: '1',
  LOG_LEVEL: 'silent',
  // Every test shares one client address: the write limits' own tests set them low (write-limits.test.ts).
  REGISTER_MAX_PER_IP: '100000',
  TRANSFER_MAX_PER_SESSION: '100000',
  TRANSFER_MAX_PER_USER: '100000',
  ACCOUNT_OPENING_MAX_PER_SESSION: '100000',
  ACCOUNT_OPENING_MAX_PER_USER: '100000',
};

/** The migrate job, with a short retry (the databases of the tests are up). */
export async function migrate(db: Knex): Promise<void> {
  await migrateDatabase(db, silentLogger, { attempts: 3, initialDelayMs: 100, maxDelayMs: 500 });
}

export function transactionsApp(db: Knex): Koa {
  const config = loadTransactionsConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  return createTransactionsApp({ config, db, logger: silentLogger });
}

export interface Stack {
  web: Koa;
  transactions: Koa;
  webConfig: WebConfig;
  /** Stops the transactions service's listener (the web app then sees it as down). */
  stopTransactions(): Promise<void>;
  close(): Promise<void>;
}

async function listenOnFreePort(app: Koa): Promise<Server> {
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * Both real services on one real database, migrated and seeded by the job: the transactions app
 * listens on an ephemeral port and the web app (driven in-process by supertest) calls it over
 * HTTP with signed requests.
 */
export async function startStack(db: Knex, url: string, env: Record<string, string> = {}): Promise<Stack> {
  await migrate(db);
  const transactionsConfig = loadTransactionsConfig({ ...TEST_ENV, ...env, DATABASE_URL: url });
  const transactions = createTransactionsApp({ config: transactionsConfig, db, logger: silentLogger });
  const server = await listenOnFreePort(transactions);
  const webConfig = loadWebConfig({
    ...TEST_ENV,
    ...env,
    DATABASE_URL: url,
    TRANSACTIONS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
  const hasher = createHasher(webConfig);
  await seedDatabase(db, (p) => hasher.hash(p), silentLogger);
  const web = createWebApp({ config: webConfig, db, logger: silentLogger, hasher });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await closeServer(server);
  };
  return { web, transactions, webConfig, stopTransactions: stop, close: stop };
}

/** A password hasher that counts the passwords it actually checks (the attacks on the throttle count these). */
export function countingHasher(config: WebConfig): { hasher: PasswordHasher; checks: () => number } {
  const real = createHasher(config);
  let checks = 0;
  const hasher: PasswordHasher = {
    hash: (password) => real.hash(password),
    verify(stored, password) {
      checks += 1;
      return real.verify(stored, password);
    },
    needsRehash: (stored) => real.needsRehash(stored),
    dummyHash: real.dummyHash,
    queue: real.queue,
  };
  return { hasher, checks: () => checks };
}

/**
 * One more web service instance (a replica, or the other colour) on the stack's database, with
 * its own Knex pool and a counting hasher; `close` destroys its pool.
 */
export function webReplica(
  stack: Stack,
  url: string,
  env: Record<string, string> = {},
): { web: Koa; checks: () => number; close: () => Promise<void> } {
  const config = loadWebConfig({
    ...TEST_ENV,
    ...env,
    DATABASE_URL: url,
    TRANSACTIONS_URL: stack.webConfig.transactionsUrl,
  });
  const db = createDb(url);
  const { hasher, checks } = countingHasher(config);
  const web = createWebApp({ config, db, logger: silentLogger, hasher });
  return { web, checks, close: () => db.destroy() };
}

export type Agent = ReturnType<typeof request.agent>;

let nameSeq = 0;
/** A name no other test uses (usernames are unique in the shared database). */
export const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${(nameSeq += 1)}`;

/** Submits the login form as a browser would (GET for the CSRF token, then POST). */
export async function submitLogin(agent: Agent, username: string, password: string) {
  const form = await agent.get('/login').expect(200);
  return agent
    .post('/login')
    .type('form')
    .send({ username, password, _csrf: csrfFrom(form.text) });
}

/** Submits the registration form as a browser would (GET for the CSRF token, then POST). */
export async function submitRegistration(agent: Agent, username: string, password: string) {
  const form = await agent.get('/register').expect(200);
  return agent
    .post('/register')
    .type('form')
    .send({ username, password, _csrf: csrfFrom(form.text) });
}

/** The number of a user's primary account. */
export async function primaryAccountOf(db: Knex, username: string): Promise<string> {
  const row = await db('accounts as a')
    .join('users as u', 'u.id', 'a.user_id')
    .where({ 'u.username': username, 'a.kind': 'primary' })
    .first<{ number: string }>('a.number');
  return row.number;
}

/** Reads the `_csrf` hidden field out of a rendered form. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no _csrf field in page');
  return match[1];
}

export interface TestUser {
  id: number;
  username: string;
  isAdmin: boolean;
  /** number of the primary EUR account */
  primary: string;
}

let counter = 0;

/** A new user with a unique name and their primary account, made the way registration makes them. */
export async function makeUser(db: Knex, prefix = 'user', isAdmin = false): Promise<TestUser> {
  counter += 1;
  const username = `${prefix}${counter}_${randomUUID().slice(0, 6)}`;
  const user = await insertUser(db, { username, passwordHash: 'not-a-real-hash', isAdmin });
  if (!user) throw new Error('user not created');
  const { account } = await openPrimaryAccount(db, user.id);
  return { id: user.id, username, isAdmin, primary: account.number };
}

/** Opens a current account through the real opening path (a fresh idempotency key); its number. */
export async function openCurrent(db: Knex, userId: number, currency: 'EUR' | 'USD'): Promise<string> {
  const opened = await openCurrentAccount(db, userId, currency, `open-${randomUUID()}`);
  if (opened.outcome === 'key_reused') throw new Error('a fresh key cannot have been used');
  return opened.account.number;
}

/** Credits an account from settlement through the real deposit path. */
export async function fund(db: Knex, admin: TestUser, to: string, amount: string): Promise<void> {
  const result = await executeMovement(db, admin.id, {
    kind: 'deposit',
    idempotencyKey: `fund-${randomUUID()}`,
    to,
    amountCents: parseAmount(amount),
    label: undefined,
  });
  if (result.outcome !== 'succeeded') throw new Error(`funding failed: ${JSON.stringify(result)}`);
}

export async function balanceOf(db: Knex, number: string): Promise<string> {
  const row = await db<AccountRow>('accounts').where({ number }).first();
  if (!row) throw new Error(`no account ${number}`);
  return formatCents(row.balance);
}

export async function journalCount(db: Knex): Promise<number> {
  const row = await db('transactions').count<{ n: number | string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

export const newKey = () => `key-${randomUUID()}`;

/** The key the services use when SERVICE_SIGNING_* are not set (development and tests). */
export const TEST_SIGNING_KEY: SigningKey = { keyId: 'k1', secret: DEV_SIGNING_SECRET };

export interface SignedClient {
  server: Server;
  get(path: string, actingUserId: number | string): request.Test;
  post(path: string, actingUserId: number | string, body: unknown): request.Test;
  close(): Promise<void>;
}

/**
 * Calls an app the way the web service does: every request signed with HMAC over method, path
 * (with query), time, body and acting user. One listening server is reused for all requests, so
 * hundreds of concurrent calls do not open hundreds of ephemeral servers.
 */
export async function signedClient(app: Koa, key: SigningKey = TEST_SIGNING_KEY): Promise<SignedClient> {
  const server = await listenOnFreePort(app);
  const agent = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return {
    server,
    get(path, actingUserId) {
      return agent
        .get(path)
        .set(signatureHeaders(key, { method: 'GET', path, body: '', actingUserId: String(actingUserId) }));
    },
    post(path, actingUserId, body) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return agent
        .post(path)
        .set(signatureHeaders(key, { method: 'POST', path, body: text, actingUserId: String(actingUserId) }))
        .set('Content-Type', 'application/json')
        .send(text);
    },
    close: () => closeServer(server),
  };
}
