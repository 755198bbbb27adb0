import type { Queryable } from '#shared/db.js';
import { usernameKey } from '#shared/contract/usernames.js';

/**
 * The users table (owned by the web service). `users.balance` is the original spec's field; the
 * database keeps it equal to the primary account (transactions/src/ledger/rules.ts): nothing here
 * writes it.
 */
export interface UserRow {
  id: number;
  username: string;
  /** usernameKey(username): unique, what logins and transfers look a name up by. */
  username_key: string;
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

/** The user whose name is `username` up to case and Unicode compatibility forms (usernameKey). */
export async function findUserByUsername(db: Queryable, username: string): Promise<UserRow | undefined> {
  return db<UserRow>('users')
    .where({ username_key: usernameKey(username) })
    .first();
}

export async function findUserById(db: Queryable, id: number): Promise<UserRow | undefined> {
  return db<UserRow>('users').where({ id }).first();
}

export async function updatePasswordHash(db: Queryable, id: number, passwordHash: string): Promise<void> {
  await db('users').where({ id }).update({ password_hash: passwordHash });
}

export interface NewUser {
  username: string;
  passwordHash: string;
  isAdmin?: boolean;
}

/**
 * Inserts a user. Returns undefined when the username is taken, whatever its case (unique
 * `username_key`), so two concurrent registrations of one name cannot both succeed. Their primary account is opened by
 * the transactions service (see registration.ts).
 */
export async function insertUser(db: Queryable, user: NewUser): Promise<User | undefined> {
  const rows = await db('users')
    .insert({
      username: user.username,
      username_key: usernameKey(user.username),
      password_hash: user.passwordHash,
      is_admin: user.isAdmin ?? false,
    })
    .onConflict('username_key')
    .ignore()
    .returning(['id', 'username', 'is_admin']);
  const row = rows[0] as Pick<UserRow, 'id' | 'username' | 'is_admin'> | undefined;
  return row ? toUser(row) : undefined;
}

/**
 * Undoes a registration whose primary account could not be opened. An account that was opened
 * after all (its answer was lost) keeps the user: the foreign key from accounts refuses the delete.
 */
export async function deleteUnfinishedUser(db: Queryable, id: number): Promise<'deleted' | 'kept'> {
  try {
    await db('users').where({ id }).delete();
    return 'deleted';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === '23503' || code === 'SQLITE_CONSTRAINT') return 'kept';
    throw err;
  }
}

export async function countUsers(db: Queryable): Promise<number> {
  const row = await db('users').count<{ n: number | string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}
