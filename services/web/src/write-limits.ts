import type Koa from 'koa';
import type { Knex } from 'knex';
import type { RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { databaseLimiter, take, type Verdict } from './auth/rate-limits.js';

/** How many of each write a client may make per window (WebConfig; docs/ARCHITECTURE.md §8). */
export interface WriteLimitConfig {
  registrationsPerIp: number;
  registrationWindowS: number;
  transfersPerSession: number;
  transfersPerUser: number;
  transferWindowS: number;
  openingsPerSession: number;
  openingsPerUser: number;
  openingWindowS: number;
}

/** Takes a point from both keys, or from neither: a refusal by the second gives the first its point back. */
async function takeBoth(
  first: [RateLimiterStoreAbstract, string],
  second: [RateLimiterStoreAbstract, string],
): Promise<Verdict> {
  const a = await take(...first);
  if (!a.allowed) return a;
  const b = await take(...second);
  if (!b.allowed) await first[0].reward(first[1]);
  return b;
}

/** The key of the session for the per-session limits (set at login; a session from before falls back to its user). */
export function sessionLimitKey(ctx: Koa.Context, userId: number): string {
  const key = ctx.session?.limitKey;
  return typeof key === 'string' ? key : `user-${userId}`;
}

/**
 * The limits on what writes rows: registrations per client address, transfers and account
 * openings per session and per user. Counted in the shared database (rate-limiter-flexible), so
 * replicas and colours share them; a refusal is a 429 page with Retry-After, and nothing is written.
 */
export class WriteLimits {
  private readonly registrations: RateLimiterStoreAbstract;
  private readonly transfersBySession: RateLimiterStoreAbstract;
  private readonly transfersByUser: RateLimiterStoreAbstract;
  private readonly openingsBySession: RateLimiterStoreAbstract;
  private readonly openingsByUser: RateLimiterStoreAbstract;

  constructor(db: Knex, c: WriteLimitConfig) {
    const limiter = (prefix: string, points: number, durationS: number) =>
      databaseLimiter(db, { prefix, points, durationS });
    this.registrations = limiter('register_ip', c.registrationsPerIp, c.registrationWindowS);
    this.transfersBySession = limiter('transfer_session', c.transfersPerSession, c.transferWindowS);
    this.transfersByUser = limiter('transfer_user', c.transfersPerUser, c.transferWindowS);
    this.openingsBySession = limiter('opening_session', c.openingsPerSession, c.openingWindowS);
    this.openingsByUser = limiter('opening_user', c.openingsPerUser, c.openingWindowS);
  }

  registration(ip: string): Promise<Verdict> {
    return take(this.registrations, ip);
  }

  transfer(sessionKey: string, userId: number): Promise<Verdict> {
    return takeBoth([this.transfersBySession, sessionKey], [this.transfersByUser, String(userId)]);
  }

  opening(sessionKey: string, userId: number): Promise<Verdict> {
    return takeBoth([this.openingsBySession, sessionKey], [this.openingsByUser, String(userId)]);
  }
}

/** "42 s" or "3 min": the wait of a 429 page, the same as its Retry-After. */
export function waitText(retryAfterS: number): string {
  return retryAfterS < 60 ? `${retryAfterS} s` : `${Math.ceil(retryAfterS / 60)} min`;
}
