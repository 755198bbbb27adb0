import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../services/shared/src/config.js';
import { migrateWithRetry } from '../../services/shared/src/startup.js';
import { seedIfEmpty } from '../../services/shared/src/seed.js';
import { createApp as createTransactionsApp } from '../../services/transactions/src/app.js';
import { createApp as createWebApp, createHasher } from '../../services/web/src/app.js';

export const silentLogger = pino({ level: 'silent' });

/** Test-only low scrypt cost: the parameters are exercised, the seconds are not needed. */
export const TEST_ENV = { NODE_ENV: 'test', SCRYPT_LOG_N: '10', SCRYPT_R: '8', SCRYPT_P: '1', LOG_LEVEL: 'silent' };

export interface Stack {
  web: Koa;
  transactions: Koa;
  webConfig: Config;
  close(): Promise<void>;
}

/**
 * Both real services on one real database: the transactions app listens on an ephemeral port and
 * the web app (driven in-process by supertest) calls it over HTTP with signed requests.
 */
export async function startStack(db: Knex, url: string, env: Record<string, string> = {}): Promise<Stack> {
  await migrateWithRetry(db, silentLogger);
  const transactionsConfig = loadConfig('transactions', { ...TEST_ENV, ...env, DATABASE_URL: url });
  const transactions = createTransactionsApp({ config: transactionsConfig, db, logger: silentLogger });
  const server: Server = await new Promise((resolve) => {
    const s = transactions.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const webConfig = loadConfig('web', {
    ...TEST_ENV,
    ...env,
    DATABASE_URL: url,
    TRANSACTIONS_URL: `http://127.0.0.1:${port}`,
  });
  const hasher = createHasher(webConfig);
  await seedIfEmpty(db, (p) => hasher.hash(p), silentLogger);
  const web = createWebApp({ config: webConfig, db, logger: silentLogger, hasher });
  return {
    web,
    transactions,
    webConfig,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads the `_csrf` hidden field out of a rendered form. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no _csrf field in page');
  return match[1];
}
