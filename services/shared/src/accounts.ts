import { randomBytes, randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import type { Currency } from './money.js';

/**
 * Accounts: opening them, and the settlement accounts deposits come from. Shared because the web
 * service opens a primary account when a user registers and the seed enters opening balances
 * (money itself moves in the database, by the transfers_post trigger of migration 320);
 * everything else about money lives in the transactions service (services/transactions/src/ledger).
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

/** "FT" and ten digits, e.g. FT4821730956. Settlement accounts are FT0000000001 (EUR), FT0000000002 (USD). */
export const ACCOUNT_NUMBER_PATTERN = /^FT\d{10}$/;

/** Account numbers are shown and typed with optional spaces and in any case. */
export function normalizeAccountNumber(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

function newAccountNumber(): string {
  // A leading 1-9 keeps generated numbers away from the settlement accounts' FT00000000xx.
  return `FT${randomInt(1, 10)}${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
}

/** A short unique reference shown to users for every transfer and deposit. */
export function newReference(): string {
  return `TRX-${randomBytes(6).toString('hex').toUpperCase()}`;
}

/** Server-assigned timestamps, stored as ISO-8601 UTC text/timestamptz the same way on both databases. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function toIso(value: string | Date | number): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return new Date(value).toISOString();
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`).toISOString();
}

export const toCents = (value: number | string | bigint): number => Number(value);

/** Opens an account with a fresh unique number (a collision, about 1 in 10^9, just draws again). */
export async function openAccount(
  trx: Knex.Transaction,
  userId: number,
  currency: Currency,
  kind: 'primary' | 'current',
): Promise<AccountRow> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const rows = (await trx('accounts')
      .insert({ number: newAccountNumber(), user_id: userId, currency, kind, balance: 0, created_at: nowIso() })
      .onConflict('number')
      .ignore()
      .returning(['id', 'number', 'user_id', 'currency', 'kind', 'balance', 'created_at'])) as AccountRow[];
    if (rows[0]) return rows[0];
  }
  throw new Error('could not draw a free account number');
}

/** Every user has one primary EUR account; called in the transaction that creates the user. */
export function openPrimaryAccount(trx: Knex.Transaction, userId: number): Promise<AccountRow> {
  return openAccount(trx, userId, 'EUR', 'primary');
}

export async function settlementAccount(trx: Knex | Knex.Transaction, currency: Currency): Promise<AccountRow> {
  const row = await trx<AccountRow>('accounts').where({ kind: 'settlement', currency }).first();
  if (!row) throw new Error(`settlement account for ${currency} is missing`);
  return row;
}

/** Seed helper: enters a user's opening balance as a deposit from settlement (journal entries). */
export async function seedOpeningDeposit(trx: Knex.Transaction, userId: number, amountCents: number): Promise<void> {
  const to = await trx<AccountRow>('accounts').where({ user_id: userId, kind: 'primary' }).first();
  if (!to) throw new Error(`user ${userId} has no primary account`);
  const from = await settlementAccount(trx, to.currency);
  // Inserted as succeeded and posted by the database: the transfers_post trigger (migration 320)
  // moves the balances and writes the journal in this same statement.
  await trx('transfers').insert({
    reference: newReference(),
    kind: 'deposit',
    initiated_by: null,
    idempotency_key: `opening-balance-${userId}`,
    request_hash: 'opening-balance',
    status: 'succeeded',
    posted_by: 'database',
    from_account_id: from.id,
    to_account_id: to.id,
    amount: amountCents,
    currency: to.currency,
    label: 'Solde d’ouverture',
    created_at: nowIso(),
  });
}
