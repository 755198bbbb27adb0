import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { seedAccounts } from '#transactions/ledger/seed.js';
import { SEED_PASSWORD, seedDemoUsers } from '#web/seed.js';

/**
 * `npm run db:seed`: the demo users (web side) and their accounts and opening balances
 * (transactions side), in one transaction, only when the database has no user at all. Safe to
 * run on every start: a second run finds users and does nothing.
 */
export async function seedDatabase(
  db: Knex,
  hashPassword: (password: string) => Promise<string>,
  logger: Logger,
): Promise<number> {
  const passwordHash = await hashPassword(SEED_PASSWORD);
  const created = await db.transaction(async (trx) => {
    const users = await seedDemoUsers(trx, passwordHash);
    await seedAccounts(trx, users);
    return users.length;
  });
  logger.info({ created }, created ? 'seeded demo users' : 'database already has users: nothing seeded');
  return created;
}
