import type { Knex } from 'knex';
import type { Logger } from './logger.js';
import { seedOpeningDeposit } from './accounts.js';
import { countUsers, createUser } from './users.js';

export const SEED_PASSWORD = 'password123';

/** Demo users and their opening balances in cents. */
export const SEED_USERS: ReadonlyArray<{ username: string; balanceCents: number; isAdmin: boolean }> = [
  { username: 'admin', balanceCents: 0, isAdmin: true },
  { username: 'alice', balanceCents: 1_000_00, isAdmin: false },
  { username: 'bob', balanceCents: 500_00, isAdmin: false },
  { username: 'charlie', balanceCents: 250_00, isAdmin: false },
];

/**
 * Seeds the demo users only when there are none. Idempotent and safe when two processes seed at
 * once: usernames are unique and the whole seed is one transaction.
 */
export async function seedIfEmpty(
  db: Knex,
  hashPassword: (password: string) => Promise<string>,
  logger: Logger,
): Promise<boolean> {
  if ((await countUsers(db)) > 0) return false;
  const passwordHash = await hashPassword(SEED_PASSWORD);
  const created = await db.transaction(async (trx) => {
    let count = 0;
    for (const seed of SEED_USERS) {
      const user = await createUser(trx, { username: seed.username, passwordHash, isAdmin: seed.isAdmin });
      if (!user) continue;
      count += 1;
      // Opening balances enter as deposits from settlement, so the books balance from the start.
      if (seed.balanceCents > 0) await seedOpeningDeposit(trx, user.id, seed.balanceCents);
    }
    return count;
  });
  logger.info({ created }, 'seeded demo users');
  return created > 0;
}
