import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AccountRow } from '../../services/shared/src/accounts.js';
import { loadConfig } from '../../services/shared/src/config.js';
import { createLogger } from '../../services/shared/src/logger.js';
import { formatCents, parseAmount } from '../../services/shared/src/money.js';
import { migrateWithRetry } from '../../services/shared/src/startup.js';
import { createUser } from '../../services/shared/src/users.js';
import { createApp } from '../../services/transactions/src/app.js';
import { executeMovement } from '../../services/transactions/src/ledger/transfers.js';

export const silentLogger = createLogger('transactions', 'silent');

export async function migrate(db: Knex): Promise<void> {
  await migrateWithRetry(db, silentLogger, { attempts: 3, initialDelayMs: 100, maxDelayMs: 500 });
}

export function transactionsApp(db: Knex) {
  const config = loadConfig('transactions', { NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  return createApp({ config, db, logger: silentLogger });
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
  const user = await db.transaction((trx) => createUser(trx, { username, passwordHash: 'not-a-real-hash', isAdmin }));
  if (!user) throw new Error('user not created');
  const primary = await db<AccountRow>('accounts').where({ user_id: user.id, kind: 'primary' }).first();
  if (!primary) throw new Error('primary account missing');
  return { id: user.id, username, isAdmin, primary: primary.number };
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
