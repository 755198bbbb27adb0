import type { Knex } from 'knex';
import { usernameKey } from '#shared/contract/usernames.js';

export interface ThrottleLimits {
  /** Attempts per username (any case) per window; a successful login forgets that user's. */
  maxPerUser: number;
  /**
   * Failed attempts per client address per window. Attempts still being checked do not count
   * here: the users of one office behind one address must be able to log in at the same time.
   */
  maxPerIp: number;
  windowMs: number;
  /** Attempts being checked at the same time for one username. */
  maxInFlightPerUser: number;
  /** Attempts being checked at the same time from one address: failures + this bounds its checks. */
  maxInFlightPerIp: number;
  /** How long a reservation counts as in flight if its process dies before settling it. */
  inFlightLeaseMs: number;
}

/** What the check of a reserved attempt found. `unchecked`: it failed before an answer (busy, outage). */
export type AttemptOutcome = 'failed' | 'succeeded' | 'unchecked';

export type Reservation =
  { blocked: false; settle(outcome: AttemptOutcome): Promise<void> } | { blocked: true; retryAfterS: number };

interface CounterRow {
  key: string;
  attempts: number | string;
  window_ends_at: number | string;
  in_flight: number | string;
  in_flight_until: number | string;
}

class Blocked extends Error {
  constructor(readonly retryAfterS: number) {
    super('login attempt blocked');
  }
}

const TABLE = 'login_throttle';

/**
 * Counts login attempts per username and per client address in the shared database, so every
 * replica and both colours see one count. An attempt is *reserved* before the password is
 * checked: one statement per key increments the counter only while it is under its limit (and
 * under the in-flight cap), so simultaneous attempts cannot all pass a "blocked?" test that
 * runs before the slow hash. PostgreSQL re-checks the condition on the locked row; SQLite has a
 * single writer. A blocked attempt checks no password.
 */
export class LoginThrottle {
  constructor(
    private readonly db: Knex,
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async reserve(username: string, ip: string): Promise<Reservation> {
    const keys = [`u:${usernameKey(username)}`, `ip:${ip}`] as const;
    try {
      await this.db.transaction(async (trx) => {
        // Always the username first, then the address: concurrent reservations lock rows in one order.
        await this.take(trx, keys[0], this.limits.maxPerUser, this.limits.maxInFlightPerUser, 'reserved');
        await this.take(trx, keys[1], this.limits.maxPerIp, this.limits.maxInFlightPerIp, 'failed');
      });
    } catch (err) {
      if (err instanceof Blocked) return { blocked: true, retryAfterS: err.retryAfterS };
      throw err;
    }
    return { blocked: false, settle: (outcome) => this.settle(keys, outcome) };
  }

  /**
   * Takes one attempt on `key` if it is under its limits. `reserved`: every attempt counts from
   * its reservation, in flight or not (per user: 25 simultaneous guesses get at most `max`
   * checks). `failed`: only settled failures count (per address), in-flight ones are bounded by
   * `maxInFlight` alone.
   */
  private async take(
    trx: Knex.Transaction,
    key: string,
    max: number,
    maxInFlight: number,
    counted: 'reserved' | 'failed',
  ): Promise<void> {
    const now = this.now();
    // In-flight reservations whose lease ended (their process died) count for nothing.
    const liveInFlight = 'case when in_flight_until <= ? then 0 else in_flight end';
    await trx(TABLE)
      .insert({ key, attempts: 0, window_ends_at: 0, in_flight: 0, in_flight_until: 0 })
      .onConflict('key')
      .ignore();
    const taken = await trx(TABLE)
      .where({ key })
      .andWhere((q) =>
        counted === 'reserved'
          ? q.where('window_ends_at', '<=', now).orWhere('attempts', '<', max)
          : q.where('window_ends_at', '<=', now).orWhereRaw(`attempts - (${liveInFlight}) < ?`, [now, max]),
      )
      .andWhere((q) => q.where('in_flight_until', '<=', now).orWhere('in_flight', '<', maxInFlight))
      .update({
        attempts: trx.raw('case when window_ends_at <= ? then 1 else attempts + 1 end', [now]),
        window_ends_at: trx.raw('case when window_ends_at <= ? then ? else window_ends_at end', [
          now,
          now + this.limits.windowMs,
        ]),
        in_flight: trx.raw('case when in_flight_until <= ? then 1 else in_flight + 1 end', [now]),
        in_flight_until: now + this.limits.inFlightLeaseMs,
      });
    if (taken === 1) return;
    const row = await trx<CounterRow>(TABLE).where({ key }).first();
    const windowLeft = Number(row?.window_ends_at ?? 0) - now;
    const live = Number(row?.in_flight_until ?? 0) <= now ? 0 : Number(row?.in_flight ?? 0);
    const counts = Number(row?.attempts ?? 0) - (counted === 'reserved' ? 0 : live);
    const full = counts >= max && windowLeft > 0;
    // Over the limit: until the window ends. Only too many at once: as soon as one finishes.
    throw new Blocked(full ? Math.ceil(windowLeft / 1000) : 1);
  }

  private async settle(keys: readonly [string, string], outcome: AttemptOutcome): Promise<void> {
    const decrement = (column: string) => this.db.raw(`case when ${column} > 0 then ${column} - 1 else 0 end`);
    const [user, ip] = keys;
    // A failure stays counted; a success forgets the user's count and gives the address its attempt back.
    const userAttempts = { failed: undefined, succeeded: 0, unchecked: decrement('attempts') }[outcome];
    await this.db(TABLE)
      .where({ key: user })
      .update({ in_flight: decrement('in_flight'), ...(userAttempts === undefined ? {} : { attempts: userAttempts }) });
    await this.db(TABLE)
      .where({ key: ip })
      .update({
        in_flight: decrement('in_flight'),
        ...(outcome === 'failed' ? {} : { attempts: decrement('attempts') }),
      });
  }
}

/** Deletes the counters whose window has ended, with nothing in flight: the table stays small. */
export function purgeExpiredAttempts(db: Knex, now = Date.now()): Promise<number> {
  return db(TABLE).where('window_ends_at', '<=', now).andWhere('in_flight_until', '<=', now).delete();
}
