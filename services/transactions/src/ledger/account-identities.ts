import type { Knex } from 'knex';
import { isTransaction, type Queryable } from '#shared/db.js';
import type { AccountRow } from './accounts.js';

/** What never changes about an account once it is opened (rule `accounts_identity_fixed`). */
export type AccountIdentity = Omit<AccountRow, 'balance'>;

/** Enough for every account a busy process pays from or to; beyond it the oldest entry goes. */
const MAX_REMEMBERED = 10_000;

/** One memory per database handle: tests and tools open several databases in one process. */
const remembered = new WeakMap<Knex, Map<string, AccountIdentity>>();

/**
 * The accounts with these numbers, as far as they exist, without their balance. An account read
 * once is remembered by this process: its number, owner, currency and kind never change (the
 * database refuses it, ledger/rules.ts), and no account is ever deleted. A transfer between
 * accounts already seen therefore costs one statement, its INSERT, instead of two: on 2 cores each
 * round trip to PostgreSQL was a large part of a transfer's CPU (`npm run bench:transfers`).
 * Balances are never taken from here; the posting reads and moves them in the database.
 */
export async function accountIdentities(db: Queryable, numbers: readonly string[]): Promise<AccountIdentity[]> {
  // Inside a transaction nothing is remembered: an account it opens may still be rolled back.
  let memory = isTransaction(db) ? new Map<string, AccountIdentity>() : remembered.get(db);
  if (!memory) remembered.set(db, (memory = new Map()));
  const known = numbers.map((n) => memory.get(n));
  if (known.every((a) => a !== undefined)) return known;
  const rows = await db<AccountRow>('accounts').whereIn('number', [...new Set(numbers)]);
  return rows.map(function remember({ balance: _balance, ...identity }) {
    if (memory.size >= MAX_REMEMBERED) memory.delete(memory.keys().next().value as string);
    memory.set(identity.number, identity);
    return identity;
  });
}
