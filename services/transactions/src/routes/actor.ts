import type Koa from 'koa';
import type { Knex } from 'knex';
import { forbidden, unauthorized } from '#shared/errors.js';
import { findAccountHolder, type AccountHolder } from '../ledger/account-holders.js';

/** The user a signed request acts for, read from the database (never from the request body). */
export type Actor = AccountHolder;

/** The signed acting-user id (the signature middleware has checked it). */
export function actingUserId(ctx: Koa.Context): number {
  return ctx.state.actingUserId as number;
}

/**
 * The one actor loader: the acting user from the database (existence, admin flag), once per
 * request. The transfer route does not need it: ownership compares account owners with the
 * signed id, and the foreign key on transfers.initiated_by refuses an id that is not a user.
 */
export async function loadActor(ctx: Koa.Context, db: Knex): Promise<Actor> {
  const cached = ctx.state.actor as Actor | undefined;
  if (cached) return cached;
  const actor = await findAccountHolder(db, actingUserId(ctx));
  if (!actor) throw unauthorized('unknown_user', 'Utilisateur inconnu.');
  ctx.state.actor = actor;
  return actor;
}

/** Router-level guard of the admin-only routes. */
export function requireAdmin(db: Knex, message: string): Koa.Middleware {
  return async function adminOnly(ctx, next) {
    if (!(await loadActor(ctx, db)).isAdmin) throw forbidden('admin_only', message);
    await next();
  };
}
