import type Koa from 'koa';
import type { Queryable } from '#shared/db.js';
import { toUser, type User } from './users.js';

interface SessionRow {
  data: string;
  expires_at: number | string;
  /** The session's user, joined in the same query (null for a session without user, or a user gone). */
  user_id: number | null;
  username: string | null;
  is_admin: boolean | number | null;
}

const LOADED_USER = Symbol('user loaded with the session');

/**
 * The user the session store read together with the session row, if it is `userId`: every
 * logged-in page needs both, and one query instead of two is a tenth of a page's work.
 */
export function userLoadedWithSession(ctx: Koa.Context, userId: number): User | undefined {
  const user = (ctx.state as Record<symbol, User | undefined>)[LOADED_USER];
  return user?.id === userId ? user : undefined;
}

/**
 * koa-session external store in the shared database: both colours read the same sessions, so a
 * user stays logged in across a blue/green flip, and logout deletes the row (a copied cookie
 * stops working at once). A row is written only once a session holds something (a logged-in
 * user, a flash message): anonymous pages carry their CSRF token in a cookie (csrf.ts). Expired
 * rows are deleted on a schedule (housekeeping.ts).
 */
export function createSessionStore(db: Queryable, now: () => number = Date.now) {
  return {
    async get(
      key: string,
      _maxAge?: unknown,
      options?: { ctx?: Koa.Context },
    ): Promise<Record<string, unknown> | undefined> {
      const row = await db('sessions as s')
        .leftJoin('users as u', 'u.id', 's.user_id')
        .where('s.id', key)
        .first<SessionRow | undefined>('s.data', 's.expires_at', 'u.id as user_id', 'u.username', 'u.is_admin');
      if (!row || Number(row.expires_at) <= now()) return undefined;
      if (options?.ctx && row.user_id !== null && row.username !== null) {
        (options.ctx.state as Record<symbol, User>)[LOADED_USER] = toUser({
          id: row.user_id,
          username: row.username,
          is_admin: row.is_admin ?? false,
        });
      }
      try {
        return JSON.parse(row.data) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    },
    async set(key: string, sess: Record<string, unknown>, maxAge: number | 'session' | undefined): Promise<void> {
      const ttl = typeof maxAge === 'number' ? maxAge : 24 * 3600 * 1000;
      const userId = typeof sess.userId === 'number' ? sess.userId : null;
      await db('sessions')
        .insert({ id: key, data: JSON.stringify(sess), user_id: userId, expires_at: now() + ttl })
        .onConflict('id')
        .merge(['data', 'user_id', 'expires_at']);
    },
    async destroy(key: string): Promise<void> {
      await db('sessions').where({ id: key }).delete();
    },
  };
}

export function purgeExpiredSessions(db: Queryable, now = Date.now()): Promise<number> {
  return db('sessions').where('expires_at', '<=', now).delete();
}
