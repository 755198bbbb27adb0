import type { Knex } from 'knex';
import { openPrimaryAccount } from './accounts.js';

export interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  balance: number | string;
  is_admin: boolean | number;
  created_at: string | Date | null;
}

export interface User {
  id: number;
  username: string;
  isAdmin: boolean;
}

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;

export function toUser(row: Pick<UserRow, 'id' | 'username' | 'is_admin'>): User {
  return { id: Number(row.id), username: row.username, isAdmin: Boolean(row.is_admin) };
}

export async function findUserByUsername(db: Knex | Knex.Transaction, username: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').where({ username }).first();
}

export async function findUserById(db: Knex | Knex.Transaction, id: number): Promise<UserRow | undefined> {
  return db<UserRow>('users').where({ id }).first();
}

export async function updatePasswordHash(db: Knex, id: number, passwordHash: string): Promise<void> {
  await db('users').where({ id }).update({ password_hash: passwordHash });
}

export interface NewUser {
  username: string;
  passwordHash: string;
  isAdmin?: boolean;
}

/**
 * Creates a user and their primary EUR account. Returns undefined when the username is taken
 * (unique constraint), so two concurrent registrations of one name cannot both succeed.
 */
export async function createUser(trx: Knex.Transaction, user: NewUser): Promise<User | undefined> {
  const rows = await trx('users')
    .insert({ username: user.username, password_hash: user.passwordHash, balance: 0, is_admin: user.isAdmin ?? false })
    .onConflict('username')
    .ignore()
    .returning(['id', 'username', 'is_admin']);
  const row = rows[0] as Pick<UserRow, 'id' | 'username' | 'is_admin'> | undefined;
  if (!row) return undefined;
  // Same transaction: a user never exists without their primary EUR account.
  await openPrimaryAccount(trx, Number(row.id));
  return toUser(row);
}

export async function countUsers(db: Knex): Promise<number> {
  const row = await db('users').count<{ n: number | string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
