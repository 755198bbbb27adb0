import type Koa from 'koa';
import type { Queryable } from '#shared/db.js';
import type { Knex } from 'knex';
import { forbidden } from '#shared/errors.js';
import { userLoadedWithSession } from './session-store.js';
import { findUserById, toUser, type User } from './users.js';

/** Loads the logged-in user (if any) into ctx.state.user on every request. */
export function loadUser(db: Knex, absoluteTimeoutMs: number): Koa.Middleware {
  return async (ctx, next) => {
    const session = ctx.session;
    const userId = session?.userId;
    if (session && typeof userId === 'number') {
      const loggedInAt = typeof session.loggedInAt === 'number' ? session.loggedInAt : 0;
      const fresh = Date.now() - loggedInAt < absoluteTimeoutMs;
      const user = fresh ? (userLoadedWithSession(ctx, userId) ?? (await loadById(db, userId))) : undefined;
      if (user) {
        ctx.state.user = user;
      } else {
        // Absolute timeout reached or user gone: end the session server-side.
        ctx.session = null;
      }
    }
    await next();
  };
}

async function loadById(db: Queryable, userId: number): Promise<User | undefined> {
  const row = await findUserById(db, userId);
  return row ? toUser(row) : undefined;
}

export function currentUser(ctx: Koa.Context): User {
  const user = ctx.state.user as User | undefined;
  if (!user) throw new Error('requireLogin must run first');
  return user;
}

/** Pages behind login redirect anonymous visitors to /login. */
export const requireLogin: Koa.Middleware = async (ctx, next) => {
  if (!ctx.state.user) {
    ctx.redirect('/login');
    return;
  }
  await next();
};

export const requireAdmin: Koa.Middleware = async (ctx, next) => {
  if (!(ctx.state.user as User | undefined)?.isAdmin) {
    throw forbidden('admin_only', 'Cette page est réservée à l’administrateur.');
  }
  await next();
};
