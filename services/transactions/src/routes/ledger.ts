import Router from '@koa/router';
import type Koa from 'koa';
import type { Knex } from 'knex';
import { forbidden } from '../../../shared/src/errors.js';
import { actorOf } from './actor.js';
import { journalPage, trialBalance } from '../ledger/journal.js';
import { onlyQuery, pagination } from './validate.js';

async function requireAdmin(ctx: Koa.Context, db: Knex): Promise<void> {
  if (!(await actorOf(ctx, db)).isAdmin) {
    throw forbidden('admin_only', 'Page réservée aux administrateurs.');
  }
}

/** Accounting views, admin only: the journal of postings and the trial balance. */
export function ledgerRoutes(db: Knex): Router {
  const router = new Router({ prefix: '/ledger' });
  router.get('/journal', async (ctx) => {
    await requireAdmin(ctx, db);
    onlyQuery(ctx, ['page', 'pageSize']);
    const page = pagination(ctx, 50);
    const { entries, hasNext } = await journalPage(db, page);
    ctx.body = { entries, page: page.page, pageSize: page.pageSize, hasNext };
  });
  router.get('/trial-balance', async (ctx) => {
    await requireAdmin(ctx, db);
    onlyQuery(ctx, []);
    ctx.body = await trialBalance(db);
  });
  return router;
}
