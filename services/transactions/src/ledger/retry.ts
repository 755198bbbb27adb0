import { setTimeout as sleep } from 'node:timers/promises';
import { serviceUnavailable } from '#shared/errors.js';

/**
 * Transient write conflicts: SQLite's lock outlasting busy_timeout (a second writer process),
 * PostgreSQL serialization failures and deadlocks. The whole DB transaction is rolled back when
 * they happen, so running it again is safe.
 */
export function isRetryableDbError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  return ['SQLITE_BUSY', 'SQLITE_LOCKED', '40001', '40P01'].includes(code) || code.startsWith('SQLITE_BUSY');
}

export interface WriteRetryOptions {
  attempts: number;
  baseDelayMs: number;
}

export const WRITE_RETRY: WriteRetryOptions = { attempts: 6, baseDelayMs: 15 };

/**
 * Runs a write transaction, retrying it a bounded number of times on transient conflicts with
 * jittered exponential backoff. When the conflicts persist the caller gets a readable 503, never
 * a raw `SQLITE_BUSY` or deadlock error.
 */
export async function withWriteRetry<T>(work: () => Promise<T>, options: WriteRetryOptions = WRITE_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (err) {
      // Every pooled connection stayed busy for the whole acquire timeout: shed load readably.
      if ((err as { name?: unknown } | null)?.name === 'KnexTimeoutError') throw busy();
      if (!isRetryableDbError(err)) throw err;
      if (attempt >= options.attempts) {
        throw busy();
      }
      const ceiling = options.baseDelayMs * 2 ** (attempt - 1);
      await sleep(ceiling / 2 + Math.random() * ceiling);
    }
  }
}

function busy() {
  return serviceUnavailable(
    'busy',
    'La banque traite beaucoup d’opérations en ce moment. Réessayez dans quelques secondes.',
  );
}
