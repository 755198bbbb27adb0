import type Koa from 'koa';
import type { Knex } from 'knex';
import { loadActor, type Actor } from '../ledger/actors.js';
import type { ActingUser } from '../signature-auth.js';

/** The signed acting-user id (the signature middleware has checked it). */
export function actingUserId(ctx: Koa.Context): number {
  return (ctx.state.actingUser as ActingUser).id;
}

/**
 * The acting user loaded from the database (existence, admin flag), once per request. The
 * transfer route does not need it: ownership compares account owners with the signed id, and
 * the foreign key on transfers.initiated_by refuses an id that is not a user.
 */
export async function actorOf(ctx: Koa.Context, db: Knex): Promise<Actor> {
  const cached = ctx.state.actor as Actor | undefined;
  if (cached) return cached;
  const actor = await loadActor(db, actingUserId(ctx));
  ctx.state.actor = actor;
  return actor;
}
