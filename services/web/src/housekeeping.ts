import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { startPeriodic, type PeriodicJob } from '#shared/periodic.js';
import { purgeExpiredLimits } from './auth/rate-limits.js';
import { purgeExpiredSessions } from './auth/session-store.js';

/** Deletes expired sessions and ended rate-limit windows (logins, writes); returns how many rows went. */
export async function purgeExpired(db: Knex, now = Date.now()): Promise<{ sessions: number; limits: number }> {
  return { sessions: await purgeExpiredSessions(db, now), limits: await purgeExpiredLimits(db, now) };
}

/**
 * Runs purgeExpired every `intervalMs` (every replica does; the deletes are idempotent).
 */
export function startHousekeeping(db: Knex, logger: Logger, intervalMs: number): PeriodicJob {
  return startPeriodic(intervalMs, async function purgeOnce() {
    try {
      const purged = await purgeExpired(db);
      if (purged.sessions + purged.limits > 0) logger.info(purged, 'expired sessions and rate-limit counters purged');
    } catch (err) {
      // The database may be away for a while: the next round tries again.
      logger.warn({ err: (err as Error).message }, 'purge of expired sessions failed');
    }
  });
}
