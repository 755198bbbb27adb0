import type { Knex } from 'knex';

interface SessionRow {
  id: string;
  data: string;
  expires_at: number | string;
}

/**
 * koa-session external store in the shared database: both colours read the same sessions, so a
 * user stays logged in across a blue/green flip, and logout deletes the row (a copied cookie
 * stops working at once). A row is written only once a session holds something (a logged-in
 * user, a flash message): anonymous pages carry their CSRF token in a cookie (csrf.ts). Expired
 * rows are deleted on a schedule (housekeeping.ts).
 */
export function createSessionStore(db: Knex, now: () => number = Date.now) {
  return {
    async get(key: string): Promise<Record<string, unknown> | undefined> {
      const row = await db<SessionRow>('sessions').where({ id: key }).first();
      if (!row || Number(row.expires_at) <= now()) return undefined;
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

export function purgeExpiredSessions(db: Knex, now = Date.now()): Promise<number> {
  return db('sessions').where('expires_at', '<=', now).delete();
}
