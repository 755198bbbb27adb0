import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as scryptModule from 'scrypt-kdf';

// scrypt-kdf's runtime exports one default class while its typings declare named functions:
// take the class from `default` and give it the declared function types.
const Scrypt = (scryptModule as unknown as { default: typeof scryptModule }).default;
import type { ScryptParams } from '../config.js';
import { Limiter } from './hash-limiter.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<boolean>;
  /** True when the stored hash was made with other parameters than the configured ones. */
  needsRehash(stored: string): boolean;
  /** A hash of a random password, to verify against when the user does not exist (same timing). */
  readonly dummyHash: Promise<string>;
  /** The hashing queue (depth, running tasks, wait hook), read by the metrics. */
  readonly queue: Limiter;
}

/**
 * scrypt hashes stored as base64 of scrypt-kdf's self-describing format (parameters and salt
 * inside, 128 characters). At most one hash per core runs at a time (configurable); the rest wait
 * in the limiter's bounded queue.
 */
export function createPasswordHasher(
  params: ScryptParams,
  limits: { concurrency: number; maxQueue: number; maxWaitMs: number },
): PasswordHasher {
  const limiter = new Limiter(limits.concurrency || availableParallelism(), limits.maxQueue, limits.maxWaitMs);
  const hash = (password: string) =>
    limiter.run(async () => Buffer.from(await Scrypt.kdf(password, params)).toString('base64'));
  return {
    queue: limiter,
    hash,
    verify: (stored, password) =>
      limiter.run(async () => {
        const key = Buffer.from(stored, 'base64');
        try {
          return await Scrypt.verify(key, password);
        } catch {
          // A malformed stored hash (e.g. a legacy format) never matches.
          return false;
        }
      }),
    needsRehash(stored) {
      try {
        const current = Scrypt.viewParams(Buffer.from(stored, 'base64'));
        return current.logN !== params.logN || current.r !== params.r || current.p !== params.p;
      } catch {
        return true;
      }
    },
    dummyHash: hash(`dummy-${randomUUID()}`).catch(() => ''),
  };
}
