import type { Knex } from 'knex';
import {
  RateLimiterPostgres,
  RateLimiterRes,
  RateLimiterSQLite,
  type RateLimiterStoreAbstract,
} from 'rate-limiter-flexible';
import { dbClient, type Queryable } from '#shared/db.js';

const TABLE = 'rate_limits';

/** One rate limit: `points` per `durationS` seconds per key, counted in the shared database. */
export interface LimitRule {
  /** Distinguishes the limits sharing the table: the stored key is `<prefix>:<key>`. */
  prefix: string;
  points: number;
  durationS: number;
}

/** What a limit said: go ahead, or wait `retryAfterS` seconds. */
export type Verdict = { allowed: true } | { allowed: false; retryAfterS: number };

interface StoredCounter {
  points: number | string;
  expire: number | string | null;
}

/**
 * rate-limiter-flexible's SQLite store in Knex mode, with its one upsert run through Knex. As
 * shipped (checked in 11.4.0), `_upsertTransaction` hands its pooled connection back to Knex
 * before its statements have run (it returns the pending promise from inside `try … finally`), so
 * its SAVEPOINT could land inside another request's transaction on that connection. This override
 * runs the same single upsert with Knex's query builder, which holds the connection until the
 * statement has finished; reads, deletes and the counting logic stay the library's.
 */
class KnexSqliteLimiter extends RateLimiterSQLite {
  constructor(
    private readonly db: Knex,
    rule: LimitRule,
  ) {
    super({
      storeClient: db,
      storeType: 'knex',
      tableName: TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: rule.prefix,
      points: rule.points,
      duration: rule.durationS,
    });
  }

  async _upsertTransaction(
    key: string,
    points: number,
    msDuration: number,
    forceExpire: boolean,
  ): Promise<StoredCounter> {
    const now = Date.now();
    const expired = forceExpire ? '1 = 1' : `${TABLE}.expire is not null and ${TABLE}.expire <= ?`;
    const bindings = forceExpire ? [] : [now];
    const rows = (await this.db(TABLE)
      .insert({ key, points, expire: msDuration > 0 ? now + msDuration : null })
      .onConflict('key')
      .merge({
        points: this.db.raw(
          `case when ${expired} then excluded.points else ${TABLE}.points + excluded.points end`,
          bindings,
        ),
        expire: this.db.raw(`case when ${expired} then excluded.expire else ${TABLE}.expire end`, bindings),
      })
      .returning(['points', 'expire'])) as StoredCounter[];
    const row = rows[0];
    if (!row) throw new Error('rate limit upsert returned no row');
    return row;
  }
}

/**
 * A rate limiter whose counters live in the shared database (table `rate_limits`), so every
 * replica and both colours count together: rate-limiter-flexible's PostgreSQL store on
 * PostgreSQL, its SQLite store (Knex mode, one method corrected above) on SQLite. The table comes from a migration: the limiters
 * never create it, and the housekeeping timer purges it (purgeExpiredLimits).
 */
export function databaseLimiter(db: Knex, rule: LimitRule): RateLimiterStoreAbstract {
  if (dbClient(db) === 'pg') {
    return new RateLimiterPostgres({
      storeClient: db,
      storeType: 'knex',
      tableName: TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: rule.prefix,
      points: rule.points,
      duration: rule.durationS,
    });
  }
  return new KnexSqliteLimiter(db, rule);
}

/** Seconds to announce in Retry-After for a refusal of rate-limiter-flexible (at least 1). */
export function retryAfterS(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/**
 * Takes `points` from `key`'s budget. A refusal resolves to its wait; a database error rejects
 * (the caller's page then answers 503 like any outage).
 */
export async function take(limiter: RateLimiterStoreAbstract, key: string, points = 1): Promise<Verdict> {
  try {
    await limiter.consume(key, points);
    return { allowed: true };
  } catch (err) {
    if (err instanceof RateLimiterRes) return { allowed: false, retryAfterS: retryAfterS(err) };
    throw err;
  }
}

/** Deletes the counters whose time has passed: the table holds only live windows. */
export function purgeExpiredLimits(db: Queryable, now = Date.now()): Promise<number> {
  return db(TABLE).whereNotNull('expire').andWhere('expire', '<=', now).delete();
}
