import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { schemaState } from '#shared/migrations/runner.js';
import { seedAccounts } from '#transactions/ledger/seed.js';
import { SEED_PASSWORD, seedDemoUsers } from '#web/seed.js';
import { ALL_MIGRATIONS } from './migrate.js';

/** Seeding a database whose schema is missing migrations: the message says what to run. */
export class SchemaNotMigratedError extends Error {
  constructor(readonly missing: string[]) {
    super(
      `the database is not migrated yet (${missing.length} migration(s) missing, first ${missing[0]}): ` +
        'run `npm run db:migrate` first, then `npm run db:seed` again',
    );
    this.name = 'SchemaNotMigratedError';
  }
}

/**
 * `npm run db:seed`: the demo users (web side) and their accounts and opening balances
 * (transactions side), in one transaction, only when the database has no user at all. Safe to
 * run on every start: a second run finds users and does nothing. Refuses a database that is not
 * migrated (SchemaNotMigratedError) before writing anything.
 */
export async function seedDatabase(
  db: Knex,
  hashPassword: (password: string) => Promise<string>,
  logger: Logger,
): Promise<number> {
  const { missing } = await schemaState(db, ALL_MIGRATIONS);
  if (missing.length > 0) throw new SchemaNotMigratedError(missing);
  const passwordHash = await hashPassword(SEED_PASSWORD);
  const created = await db.transaction(async (trx) => {
    const users = await seedDemoUsers(trx, passwordHash);
    await seedAccounts(trx, users);
    return users.length;
  });
  logger.info({ created }, created ? 'seeded demo users' : 'database already has users: nothing seeded');
  return created;
}
