import type { Knex } from 'knex';
import { nowIso } from '#shared/timestamps.js';
import { openPrimaryAccount, settlementAccount } from './accounts.js';
import { newReference } from './transfers.js';
import { POSTED_BY } from './rule-catalogue.js';

/** Opening balances of the demo users (cents), entered as deposits from settlement. */
export const OPENING_BALANCES: Readonly<Record<string, number>> = {
  alice: 1_000_00,
  bob: 500_00,
  charlie: 250_00,
};

/**
 * The transactions side of the demo seed: each new demo user's primary account and opening
 * deposit, in the seed job's transaction. Deposits are inserted as succeeded and posted by the
 * database (rules.ts): the books balance from the start.
 */
export async function seedAccounts(trx: Knex.Transaction, users: ReadonlyArray<{ id: number; username: string }>) {
  for (const user of users) {
    const { account } = await openPrimaryAccount(trx, user.id);
    const amount = OPENING_BALANCES[user.username] ?? 0;
    if (amount > 0) await openingDeposit(trx, user.id, account.id, amount);
  }
}

export async function openingDeposit(
  trx: Knex.Transaction,
  userId: number,
  accountId: number,
  amountCents: number,
): Promise<void> {
  const from = await settlementAccount(trx, 'EUR');
  await trx('transfers').insert({
    reference: newReference(),
    kind: 'deposit',
    initiated_by: null,
    idempotency_key: `opening-balance-${userId}`,
    request_hash: 'opening-balance',
    status: 'succeeded',
    posted_by: POSTED_BY,
    from_account_id: from.id,
    to_account_id: accountId,
    amount: amountCents,
    currency: 'EUR',
    label: 'Solde d’ouverture',
    created_at: nowIso(),
  });
}
