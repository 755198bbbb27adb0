import type { Queryable } from '#shared/db.js';

/**
 * Account holders: the users as the transactions service may see them, through the read-only
 * view `account_holders` that the web service (owner of `users`) defines for it
 * (migration 20261206000100_account_holders, docs/ARCHITECTURE.md §2).
 */
export interface AccountHolder {
  id: number;
  username: string;
  isAdmin: boolean;
}

export async function findAccountHolder(db: Queryable, id: number): Promise<AccountHolder | undefined> {
  const row = await db('account_holders')
    .where({ id })
    .first<{ id: number; username: string; is_admin: boolean | number } | undefined>('id', 'username', 'is_admin');
  return row ? { id: Number(row.id), username: row.username, isAdmin: Boolean(row.is_admin) } : undefined;
}
