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

/**
 * Runs the migrations, retrying with exponential backoff while the database is unreachable or
 * while the other service holds the migration lock (both services migrate at start-up).
 */
export async function migrateWithRetry(db: Knex, logger: Logger, retry: RetryOptions = DEFAULT_RETRY): Promise<void> {
  let delay = retry.initialDelayMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
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
