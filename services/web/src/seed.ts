import type { Knex } from 'knex';
import { countUsers, insertUser, type User } from './auth/users.js';

export const SEED_PASSWORD = 'password123';

/** The demo users (the web side of the seed; their accounts come from the transactions side). */
export const SEED_USERS: ReadonlyArray<{ username: string; isAdmin: boolean }> = [
  { username: 'admin', isAdmin: true },
  { username: 'alice', isAdmin: false },
  { username: 'bob', isAdmin: false },
  { username: 'charlie', isAdmin: false },
];

/** Creates the demo users when there is no user at all; returns the ones it created. */
export async function seedDemoUsers(trx: Knex.Transaction, passwordHash: string): Promise<User[]> {
  if ((await countUsers(trx)) > 0) return [];
  const created: User[] = [];
  for (const seed of SEED_USERS) {
    const user = await insertUser(trx, { username: seed.username, passwordHash, isAdmin: seed.isAdmin });
    if (user) created.push(user);
  }
  return created;
}
