import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { usernameKey } from '#shared/contract/usernames.js';
import { databaseLimiter, take } from './rate-limits.js';

export interface LoginLimits {
  /** Failed attempts per (username, client address) per window: over it, that pair waits (429). */
  maxPerUserAndIp: number;
  /** Attempts being checked or failed per client address per window; a success gives its point back. */
  maxPerIp: number;
  windowS: number;
  /** Failures on one username (from all addresses) before its attempts are slowed down. */
  slowAfter: number;
  /** The longest delay a username's attempts get, however many failures. */
  maxDelayMs: number;
}

/** What the check of an admitted attempt found. `unchecked`: it failed before an answer (busy, outage). */
export type AttemptOutcome = 'failed' | 'succeeded' | 'unchecked';

export type Admission =
  | { blocked: false; delayMs: number; settle(outcome: AttemptOutcome): Promise<void> }
  | { blocked: true; retryAfterS: number };

/** The delay of the next attempt on a username that failed `failures` times: doubles every `slowAfter`. */
export function progressiveDelayMs(failures: number, limits: Pick<LoginLimits, 'slowAfter' | 'maxDelayMs'>): number {
  if (failures < limits.slowAfter) return 0;
  const doublings = Math.floor((failures - limits.slowAfter) / limits.slowAfter);
  return Math.min(limits.maxDelayMs, 250 * 2 ** Math.min(doublings, 20));
}

/**
 * Who may try a password, protecting the owner rather than the attacker (rate-limiter-flexible,
 * counters in the shared database). An attempt takes a point from its (username, address) pair
 * and from its address *before* the password is checked, so simultaneous guesses cannot all pass;
 * a pair or an address out of points waits (429, Retry-After). A username itself is never
 * locked: its failures from all addresses only slow each of its attempts down (progressive delay,
 * at most `maxDelayMs`), so an attacker rotating over many addresses cannot keep the owner out, and
 * the owner's right password from an address that has not failed always gets in.
 * Keys hold a SHA-256 of the username key, never the typed text.
 */
export class LoginGuard {
  private readonly pair: RateLimiterStoreAbstract;
  private readonly address: RateLimiterStoreAbstract;
  private readonly username: RateLimiterStoreAbstract;

  constructor(
    db: Knex,
    private readonly limits: LoginLimits,
  ) {
    this.pair = databaseLimiter(db, {
      prefix: 'login_pair',
      points: limits.maxPerUserAndIp,
      durationS: limits.windowS,
    });
    this.address = databaseLimiter(db, { prefix: 'login_ip', points: limits.maxPerIp, durationS: limits.windowS });
    // Never refuses (its points are out of reach): it only counts a username's failures.
    this.username = databaseLimiter(db, { prefix: 'login_user', points: 1_000_000_000, durationS: limits.windowS });
  }

  async admit(typedUsername: string, ip: string): Promise<Admission> {
    const user = createHash('sha256').update(usernameKey(typedUsername)).digest('hex');
    const pairKey = `${user}|${ip}`;
    const byPair = await take(this.pair, pairKey);
    if (!byPair.allowed) return { blocked: true, retryAfterS: byPair.retryAfterS };
    const byAddress = await take(this.address, ip);
    if (!byAddress.allowed) {
      await this.pair.reward(pairKey);
      return { blocked: true, retryAfterS: byAddress.retryAfterS };
    }
    const failures = (await this.username.get(user))?.consumedPoints ?? 0;
    return {
      blocked: false,
      delayMs: progressiveDelayMs(failures, this.limits),
      settle: async (outcome) => {
        if (outcome === 'failed') {
          // The pair and the address keep their point; the username counts one more failure.
          await this.username.penalty(user);
        } else if (outcome === 'succeeded') {
          await this.pair.delete(pairKey);
          await this.address.reward(ip);
        } else {
          await this.pair.reward(pairKey);
          await this.address.reward(ip);
        }
      },
    };
  }
}
