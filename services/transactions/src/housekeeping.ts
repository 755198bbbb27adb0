import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { startPeriodic, type PeriodicJob } from '#shared/periodic.js';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Deletes refused transfers older than `retentionDays`: a refusal moved no money and has no journal
 * entry, and the user's history shows it for that long. Its audit row (audit_events) stays.
 * Accepted transfers are never deleted.
 */
export async function purgeRefusedTransfers(db: Knex, retentionDays: number, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionDays * DAY_MS).toISOString();
  return db('transfers').where({ status: 'failed' }).andWhere('created_at', '<', before).delete();
}

/**
 * Runs purgeRefusedTransfers every `intervalMs`, like the web service's purge of expired sessions
 * (every replica does; the delete is idempotent).
 */
export function startHousekeeping(
  db: Knex,
  logger: Logger,
  options: { intervalMs: number; retentionDays: number },
): PeriodicJob {
  return startPeriodic(options.intervalMs, async function purgeOnce() {
    try {
      const refusedTransfers = await purgeRefusedTransfers(db, options.retentionDays);
      if (refusedTransfers > 0) logger.info({ refusedTransfers }, 'old refused transfers purged');
    } catch (err) {
      // The database may be away for a while: the next round tries again.
      logger.warn({ err: (err as Error).message }, 'purge of old refused transfers failed');
    }
  });
}
