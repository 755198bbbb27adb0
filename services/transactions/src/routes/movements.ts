import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { forbidden, notFound } from '#shared/errors.js';
import type { AccountRow } from '../ledger/accounts.js';
import { listMovements } from '../ledger/history.js';
import { loadActor } from './actor.js';
import { accountQuery, onlyQuery, pagination } from './validate.js';

/**
 * History. Without `account`: the latest movements across the user's own accounts (dashboard).
 * With `account`: that account's history, if it is the user's (an admin may read any account).
 */
export function movementRoutes(db: Knex): Router {
  async function listMyMovements(ctx: Koa.Context) {
    const actor = await loadActor(ctx, db);
    onlyQuery(ctx, ['account', 'page', 'pageSize', 'limit']);
    const number = accountQuery(ctx);
    const page = pagination(ctx, 20);
    let numbers: string[];
    if (number === undefined) {
      numbers = (await db<AccountRow>('accounts').where({ user_id: actor.id }).select('number')).map((a) => a.number);
    } else {
      const account = await db<AccountRow>('accounts').where({ number }).first();
      if (!account) throw notFound('unknown_account', `Le compte ${number} n’existe pas.`);
      if (Number(account.user_id) !== actor.id && !actor.isAdmin) {
        throw forbidden('not_your_account', `Le compte ${number} ne vous appartient pas.`);
      }
      numbers = [number];
    }
    const { movements, hasNext } = await listMovements(db, numbers, page);
    ctx.body = { movements, page: page.page, pageSize: page.pageSize, hasNext };
  }

  return new Router().get('/movements', listMyMovements);
}
