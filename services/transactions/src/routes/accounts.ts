import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { OpenAccountRequest, OpenPrimaryAccountRequest } from '#shared/contract/api.js';
import { conflict } from '#shared/errors.js';
import { listAccounts, openCurrentAccount, openPrimaryAccount, toAccountView } from '../ledger/accounts.js';
import { loadActor } from './actor.js';
import { parseBody } from './parse.js';

/**
 * GET /accounts, POST /accounts (a current account, idempotent under the body's idempotencyKey),
 * POST /accounts/primary (idempotent, at registration).
 */
export function accountRoutes(db: Knex): Router {
  async function listMyAccounts(ctx: Koa.Context) {
    ctx.body = { accounts: await listAccounts(db, (await loadActor(ctx, db)).id) };
  }

  async function openAccount(ctx: Koa.Context) {
    const { idempotencyKey: key, currency } = parseBody(ctx, OpenAccountRequest);
    const actor = await loadActor(ctx, db);
    const result = await openCurrentAccount(db, actor.id, currency, key);
    if (result.outcome === 'key_reused') {
      throw conflict(
        'idempotency_key_reused',
        'Cette clé d’idempotence a déjà servi pour ouvrir un compte dans une autre devise : rechargez le formulaire.',
      );
    }
    if (result.outcome === 'replayed') ctx.set('Idempotent-Replay', 'true');
    ctx.status = result.outcome === 'replayed' ? 200 : 201;
    ctx.body = { account: result.account };
  }

  /** The web service calls this right after creating a user; a repeat returns the same account (200). */
  async function openPrimary(ctx: Koa.Context) {
    parseBody(ctx, OpenPrimaryAccountRequest);
    const { account, opened } = await openPrimaryAccount(db, (await loadActor(ctx, db)).id);
    ctx.status = opened ? 201 : 200;
    ctx.body = { account: toAccountView(account) };
  }

  return new Router()
    .get('/accounts', listMyAccounts)
    .post('/accounts', openAccount)
    .post('/accounts/primary', openPrimary);
}
