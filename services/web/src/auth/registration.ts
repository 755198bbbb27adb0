import type { Knex } from 'knex';
import { recordAudit } from '#shared/audit.js';
import type { Logger } from '#shared/logger.js';
import type { TransactionsClient } from '../transactions-client.js';
import { deleteUnfinishedUser, insertUser, type User } from './users.js';

export type RegistrationResult = { outcome: 'registered'; user: User } | { outcome: 'taken' };

/**
 * Registration spans both services: the web service creates the user, then asks the transactions
 * service (signed, idempotent call) to open their primary EUR account. If that call fails, the
 * user is removed again, so no user is left without an account, and the visitor sees the outage
 * (503) and can register again. If the account was in fact opened (only the answer was lost), the
 * foreign key from accounts keeps the user: the registration stands. A process that dies between
 * the two steps leaves a user without an account; their next login opens it (same idempotent call).
 */
export async function registerUser(
  db: Knex,
  transactions: TransactionsClient,
  logger: Logger,
  input: { username: string; passwordHash: string },
): Promise<RegistrationResult> {
  // The user and their audit row commit together (the INSERT first: on SQLite it takes the write lock).
  const user = await db.transaction(async (trx) => {
    const inserted = await insertUser(trx, input);
    if (inserted) {
      await recordAudit(trx, {
        event: 'registration',
        outcome: 'succeeded',
        actorId: inserted.id,
        actor: inserted.username,
      });
    }
    return inserted;
  });
  if (!user) {
    await recordAudit(db, { event: 'registration', outcome: 'taken' });
    return { outcome: 'taken' };
  }
  try {
    await transactions.openPrimaryAccount(user.id);
  } catch (err) {
    const undone = await deleteUnfinishedUser(db, user.id);
    logger.warn({ userId: user.id, undone }, 'primary account not opened at registration');
    if (undone === 'deleted') {
      await recordAudit(db, { event: 'registration', outcome: 'undone', actorId: user.id, actor: user.username });
      throw err;
    }
  }
  return { outcome: 'registered', user };
}
