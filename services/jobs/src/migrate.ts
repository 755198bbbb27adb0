import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { SHARED_MIGRATIONS } from '#shared/migrations/index.js';
import { mergeMigrations, migrateToLatest, type MigrationList, type RetryOptions } from '#shared/migrations/runner.js';
import { TRANSACTIONS_MIGRATIONS } from '#transactions/schema.js';
import { WEB_MIGRATIONS } from '#web/schema.js';

/** Every migration of the stack: the shared schema and each service's own (money rule; users, logins, sessions). */
export const ALL_MIGRATIONS: MigrationList = mergeMigrations(
  SHARED_MIGRATIONS,
  TRANSACTIONS_MIGRATIONS,
  WEB_MIGRATIONS,
);

/** `npm run db:migrate`: the one owner of the schema in a stack (see docs/ARCHITECTURE.md). */
export function migrateDatabase(db: Knex, logger: Logger, retry?: RetryOptions): Promise<string[]> {
  return migrateToLatest(db, ALL_MIGRATIONS, logger, retry);
}
