import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { Logger } from './logger.js';
import { migrationSource } from './migrations/index.js';

export interface RetryOptions {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 30, initialDelayMs: 250, maxDelayMs: 5_000 };

const LOCK_TABLE = 'knex_migrations_lock';

/**
 * knex creates its migration lock table with one row on first use, but two processes starting
 * on a fresh database can both find it empty and both insert a row (knex/knex#3538). With two
 * rows knex never manages to take the lock again, and every later start fails. Creating the
 * table and its single row ourselves, under a fixed primary key, closes that race; a process
 * that loses the race to create the table gets an error and is retried like any other.
 */
async function ensureOneLockRow(db: Knex): Promise<void> {
  if (!(await db.schema.hasTable(LOCK_TABLE))) {
    await db.schema.createTable(LOCK_TABLE, (t) => {
      t.increments('index').primary();
      t.integer('is_locked');
    });
  }
  await db(LOCK_TABLE).insert({ index: 1, is_locked: 0 }).onConflict('index').ignore();
}

/**
 * Runs the migrations, retrying with exponential backoff while the database is unreachable or
 * while the other service holds the migration lock (both services migrate at start-up).
 */
export async function migrateWithRetry(db: Knex, logger: Logger, retry: RetryOptions = DEFAULT_RETRY): Promise<void> {
  let delay = retry.initialDelayMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ensureOneLockRow(db);
      // disableMigrationsListValidation: an older colour must still start (and be rolled back to) after
      // a newer one applied expand-only migrations it does not know about.
      const [, applied] = (await db.migrate.latest({ migrationSource, disableMigrationsListValidation: true })) as [
        number,
        string[],
      ];
      logger.info({ applied }, applied.length ? 'database migrated' : 'database schema up to date');
      return;
    } catch (err) {
      if (attempt >= retry.attempts) throw err;
      logger.warn(
        { attempt, retryInMs: delay, err: (err as Error).message },
        'database not ready, retrying migrations',
      );
      await sleep(delay);
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
}
