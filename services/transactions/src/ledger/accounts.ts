import type { Knex } from 'knex';
import { openAccount, toIso, type AccountRow } from '../../../shared/src/accounts.js';
import { dbClient } from '../../../shared/src/db.js';
import { unprocessable } from '../../../shared/src/errors.js';
import { formatCents, type Currency } from '../../../shared/src/money.js';
import type { Actor } from './actors.js';
import { withWriteRetry } from './retry.js';

export const MAX_ACCOUNTS_PER_USER = 10;

export interface AccountView {
  number: string;
  currency: Currency;
  balance: string;
  kind: 'primary' | 'current';
  createdAt: string;
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

/** A user's own accounts, primary first then by opening order. Settlement is never listed. */
export async function listAccounts(db: Knex, actor: Actor): Promise<AccountView[]> {
  const rows = await db<AccountRow>('accounts').where({ user_id: actor.id }).orderBy('id');
  return rows.map(toAccountView);
}

export async function openCurrentAccount(db: Knex, actor: Actor, currency: Currency): Promise<AccountView> {
  return withWriteRetry(() =>
    db.transaction(async (trx) => {
      // Two requests of one user must not both see 9 accounts. On SQLite the insert comes first
      // and takes the single write lock before anything is read; on PostgreSQL the user's row
      // lock queues the second request until the first one commits.
      if (dbClient(db) === 'pg') await trx('users').where({ id: actor.id }).forNoKeyUpdate().first('id');
      const account = await openAccount(trx, actor.id, currency, 'current');
      const count = await trx('accounts')
        .where({ user_id: actor.id })
        .count<{ n: number | string }[]>({ n: '*' })
        .first();
      if (Number(count?.n ?? 0) > MAX_ACCOUNTS_PER_USER) {
        throw unprocessable('too_many_accounts', `Vous avez déjà ${MAX_ACCOUNTS_PER_USER} comptes : c’est le maximum.`);
      }
      return toAccountView(account);
    }),
  );
}
