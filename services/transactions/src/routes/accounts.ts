import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { isCurrency } from '#shared/contract/money.js';
import { unprocessable } from '#shared/errors.js';
import { listAccounts, openCurrentAccount, openPrimaryAccount, toAccountView } from '../ledger/accounts.js';
import { loadActor } from './actor.js';
import { jsonObject, optionalString } from './validate.js';

/** GET /accounts, POST /accounts (a current account), POST /accounts/primary (idempotent, at registration). */
export function accountRoutes(db: Knex): Router {
  async function listMyAccounts(ctx: Koa.Context) {
    ctx.body = { accounts: await listAccounts(db, (await loadActor(ctx, db)).id) };
  }

  async function openAccount(ctx: Koa.Context) {
    const body = jsonObject(ctx, ['currency']);
    const currency = optionalString(body, 'currency');
    if (!isCurrency(currency)) {
      throw unprocessable('invalid_currency', 'Devise non prise en charge : choisissez EUR ou USD.');
    }
    const actor = await loadActor(ctx, db);
    ctx.status = 201;
    ctx.body = { account: await openCurrentAccount(db, actor.id, currency) };
  }

  /** The web service calls this right after creating a user; a repeat returns the same account (200). */
  async function openPrimary(ctx: Koa.Context) {
    jsonObject(ctx, []);
    const { account, opened } = await openPrimaryAccount(db, (await loadActor(ctx, db)).id);
    ctx.status = opened ? 201 : 200;
    ctx.body = { account: toAccountView(account) };
  }

  return new Router()
    .get('/accounts', listMyAccounts)
    .post('/accounts', openAccount)
    .post('/accounts/primary', openPrimary);
}
