import Router from '@koa/router';
import type { Knex } from 'knex';
import { unprocessable } from '../../../shared/src/errors.js';
import { isCurrency } from '../../../shared/src/money.js';
import { listAccounts, openCurrentAccount } from '../ledger/accounts.js';
import { actorOf } from './actor.js';
import { jsonObject, optionalString } from './validate.js';

export function accountRoutes(db: Knex): Router {
  const router = new Router();
  router.get('/accounts', async (ctx) => {
    ctx.body = { accounts: await listAccounts(db, await actorOf(ctx, db)) };
  });
  router.post('/accounts', async (ctx) => {
    const body = jsonObject(ctx, ['currency']);
    const currency = optionalString(body, 'currency');
    if (!isCurrency(currency)) {
      throw unprocessable('invalid_currency', 'Devise non prise en charge : choisissez EUR ou USD.');
    }
    ctx.status = 201;
    ctx.body = { account: await openCurrentAccount(db, await actorOf(ctx, db), currency) };
  });
  return router;
}
