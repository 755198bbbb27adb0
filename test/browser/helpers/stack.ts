import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createDb } from '../../../services/shared/src/db.js';
import { signatureHeaders } from '../../../services/shared/src/signing.js';
import { startStack, TEST_SIGNING_KEY, type Stack } from '../../helpers/fixtures.js';
import { freshDatabase } from '../../helpers/databases.js';

export interface BrowserStack {
  /** Base URL of the web service, e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  db: Knex;
  /** Stops the transactions service (the web service keeps running): the outage a user meets. */
  stopTransactions(): Promise<void>;
  /** Starts the transactions service again on the same port. */
  startTransactions(): Promise<void>;
  /** Credits an account from settlement through the transactions API, signed as the admin. */
  deposit(to: string, amount: string, label: string): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/**
 * Both real services on a fresh SQLite file, each listening on a free port over real HTTP, with
 * the demo users seeded (alice, bob, charlie, admin; password123).
 */
export async function startBrowserStack(): Promise<BrowserStack> {
  const { url, cleanup } = await freshDatabase('SQLite');
  const db = createDb(url);
  const stack: Stack = await startStack(db, url);
  const web = stack.web.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => web.once('listening', () => resolve()));
  const transactionsUrl = stack.webConfig.transactionsUrl;
  const transactionsPort = Number(new URL(transactionsUrl).port);
  let restarted: Server | null = null;
  let running = true;

  const stopTransactions = async () => {
    if (!running) return;
    if (restarted) await close(restarted);
    else await stack.close();
    restarted = null;
    running = false;
  };

  return {
    baseUrl: `http://127.0.0.1:${(web.address() as AddressInfo).port}`,
    db,
    stopTransactions,
    async startTransactions() {
      if (running) return;
      restarted = createServer(stack.transactions.callback());
      await listen(restarted, transactionsPort);
      running = true;
    },
    async deposit(to, amount, label) {
      const admin = await db('users').where({ username: 'admin' }).first('id');
      const path = '/api/deposits';
      const body = JSON.stringify({ idempotencyKey: `browser-${randomUUID()}`, to, amount, label });
      const res = await fetch(`${transactionsUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signatureHeaders(TEST_SIGNING_KEY, { method: 'POST', path, body, actingUserId: String(admin.id) }),
        },
        body,
      });
      if (res.status !== 201) throw new Error(`deposit to ${to} failed: ${res.status} ${await res.text()}`);
    },
    async close() {
      await stopTransactions();
      await close(web);
      await db.destroy();
      cleanup();
    },
  };
}
