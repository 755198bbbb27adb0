import Router from '@koa/router';
import type Koa from 'koa';
import { currentUser } from '../auth/current-user.js';
import { pageNumber, pagination, type PageDeps } from './page-helpers.js';

const PAGE_SIZE = 50;

/** GET /accounting (admin): the trial balance and the journal, a page at a time. */
export function accountingRoutes({ render, transactions }: PageDeps): Router {
  async function showAccounting(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const page = pageNumber(ctx.query.page);
    const [journal, trialBalance] = await Promise.all([
      transactions.journal(user.id, page, PAGE_SIZE),
      transactions.trialBalance(user.id),
    ]);
    render(ctx, 'accounting.html', {
      title: 'Comptabilité',
      page: 'accounting',
      journal: journal.entries,
      pagination: pagination('/accounting', {}, page, PAGE_SIZE, journal.hasNext),
      trialBalance,
    });
  }

  return new Router().get('/accounting', showAccounting);
}
