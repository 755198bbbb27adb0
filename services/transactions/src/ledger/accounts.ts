import { recordAudit, type AuditEvent } from '#shared/audit.js';
import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import { MAX_ACCOUNTS_PER_USER } from '#shared/contract/accounts.js';
import type { AccountView } from '#shared/contract/api.js';
import { formatCents, type Currency } from '#shared/contract/money.js';
import { dbClient, isTransaction, type Queryable } from '#shared/db.js';
import { unprocessable } from '#shared/errors.js';
import { nowIso, toIso } from '#shared/timestamps.js';
import { withWriteRetry } from './retry.js';

/**
 * Accounts: opening them, listing them, and the settlement accounts deposits come from. Opening an
 * account writes a row with balance 0; balances only ever change by posting (rules.ts).
 */
export type AccountKind = 'primary' | 'current' | 'settlement';

export interface AccountRow {
  id: number;
  number: string;
  user_id: number | null;
  currency: Currency;
  kind: AccountKind;
  balance: number | string;
  created_at: string | Date;
}

const ACCOUNT_COLUMNS = ['id', 'number', 'user_id', 'currency', 'kind', 'balance', 'created_at'];

function newAccountNumber(): string {
  // A leading 1-9 keeps generated numbers away from the settlement accounts' FT00000000xx.
  return `FT${randomInt(1, 10)}${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
}

export function toAccountView(row: AccountRow): AccountView {
  return {
    number: row.number,
    currency: row.currency,
    balance: formatCents(row.balance),
    kind: row.kind === 'primary' ? 'primary' : 'current',
    createdAt: toIso(row.created_at),
  };
}

/**
 * Opens an account with a fresh unique number (a collision, about 1 in 10^9, just draws again).
 * Returns undefined when another uniqueness stopped it: the user already has a primary account
 * (unique index accounts_one_primary) and a primary one was asked for, or the opening key is
 * taken (accounts_opening_key_unique).
 */
async function insertAccount(
  db: Queryable,
  userId: number,
  currency: Currency,
  kind: 'primary' | 'current',
  openingKey?: string,
): Promise<AccountRow | undefined> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const number = newAccountNumber();
    const rows = (await db('accounts')
      .insert({
        number,
        user_id: userId,
        currency,
        kind,
        balance: 0,
        created_at: nowIso(),
        ...(openingKey ? { opening_key: openingKey } : {}),
      })
      .onConflict()
      .ignore()
      .returning(ACCOUNT_COLUMNS)) as AccountRow[];
    if (rows[0]) return rows[0];
    if (kind === 'primary' && (await primaryAccount(db, userId))) return undefined;
    if (openingKey && (await openedWithKey(db, userId, openingKey))) return undefined;
  }
  throw new Error('could not draw a free account number');
}

function openedWithKey(db: Queryable, userId: number, openingKey: string): Promise<AccountRow | undefined> {
  return db('accounts')
    .where({ user_id: userId, opening_key: openingKey })
    .first<AccountRow | undefined>(ACCOUNT_COLUMNS);
}

export function primaryAccount(db: Queryable, userId: number): Promise<AccountRow | undefined> {
  return db<AccountRow>('accounts').where({ user_id: userId, kind: 'primary' }).first();
}

/**
 * The PostgreSQL advisory-lock namespace of account openings (the first key of the two-key form;
 * the second is the user id). Any number no other lock of the project uses.
 */
export const ACCOUNT_OPENING_LOCK = 2601;

/** Serialises one user's account openings until `trx` ends (PostgreSQL only). */
async function lockAccountOpenings(trx: Knex.Transaction, userId: number): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(?, ?)', [ACCOUNT_OPENING_LOCK, userId]);
}

/** `db`'s transaction when it is one (the seed job's), else a new one. */
function inTransaction<T>(db: Queryable, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return isTransaction(db) ? work(db) : db.transaction(work);
}

/** The audit row of an opened account, written in the opening's transaction. */
function openedEvent(userId: number, account: AccountRow): AuditEvent {
  return {
    event: 'account.opened',
    outcome: 'succeeded',
    actorId: userId,
    details: { account: account.number, currency: account.currency, kind: account.kind },
  };
}

/**
 * Every user has one primary EUR account, opened right after registration. Idempotent: asking
 * again returns the account opened the first time (`opened: false`).
 */
export async function openPrimaryAccount(
  db: Queryable,
  userId: number,
): Promise<{ account: AccountRow; opened: boolean }> {
  const existing = await primaryAccount(db, userId);
  if (existing) return { account: existing, opened: false };
  const opened = await withWriteRetry(() =>
    inTransaction(db, async (trx) => {
      const account = await insertAccount(trx, userId, 'EUR', 'primary');
      if (account) await recordAudit(trx, openedEvent(userId, account));
      return account;
    }),
  );
  if (opened) return { account: opened, opened: true };
  const account = await primaryAccount(db, userId);
  if (!account) throw new Error(`primary account of user ${userId} vanished`);
  return { account, opened: false };
}

/** A user's own accounts, primary first then by opening order. Settlement is never listed. */
export async function listAccounts(db: Queryable, userId: number): Promise<AccountView[]> {
  const rows = await db<AccountRow>('accounts').where({ user_id: userId }).orderBy('id');
  return rows.map(toAccountView);
}

/**
 * The outcome of a signed account opening: a new account, the one the same key opened before
 * (same currency: a replay), or a key already used for another currency.
 */
export type AccountOpening = { outcome: 'opened' | 'replayed'; account: AccountView } | { outcome: 'key_reused' };

/**
 * Opens a current account under the request's idempotency key: asking again with the same key
 * returns the account opened the first time, so a replayed request never opens a second one.
 */
export async function openCurrentAccount(
  db: Knex,
  userId: number,
  currency: Currency,
  openingKey: string,
): Promise<AccountOpening> {
  return withWriteRetry(() =>
    db.transaction(async (trx): Promise<AccountOpening> => {
      // Two requests of one user must not both see 9 accounts. On SQLite the insert comes first
      // and takes the single write lock before anything is read; on PostgreSQL a lock of this
      // service's own, per user and held until commit, queues the second request until the
      // first one commits (the `users` row belongs to the web service: we do not lock it).
      if (dbClient(db) === 'pg') await lockAccountOpenings(trx, userId);
      const account = await insertAccount(trx, userId, currency, 'current', openingKey);
      if (!account) {
        const earlier = await openedWithKey(trx, userId, openingKey);
        if (!earlier) throw new Error('account opening key conflict without a stored account');
        return earlier.currency === currency
          ? { outcome: 'replayed', account: toAccountView(earlier) }
          : { outcome: 'key_reused' };
      }
      const count = await trx('accounts')
        .where({ user_id: userId })
        .count<{ n: number | string }[]>({ n: '*' })
        .first();
      if (Number(count?.n ?? 0) > MAX_ACCOUNTS_PER_USER) {
        throw unprocessable('too_many_accounts', `Vous avez déjà ${MAX_ACCOUNTS_PER_USER} comptes : c’est le maximum.`);
      }
      await recordAudit(trx, openedEvent(userId, account));
      return { outcome: 'opened', account: toAccountView(account) };
    }),
  );
}

export async function settlementAccount(db: Queryable, currency: Currency): Promise<AccountRow> {
  const row = await db<AccountRow>('accounts').where({ kind: 'settlement', currency }).first();
  if (!row) throw new Error(`settlement account for ${currency} is missing`);
  return row;
}
