import Router from '@koa/router';
import type Koa from 'koa';
import { currentUser } from '../auth/current-user.js';
import {
  OUTAGE_MESSAGE,
  outageStatus,
  pageNumber,
  pageToLoad,
  pagination,
  unlessOutage,
  type PageDeps,
} from './page-helpers.js';

const PAGE_SIZE = 20;

/**
 * GET /transactions: movements newest first, a page at a time; of one account (?account=…) or,
 * by default ("Tous mes comptes"), of all the user's accounts.
 */
export function historyRoutes({ render, transactions }: PageDeps): Router {
  async function showHistory(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const page = pageNumber(ctx.query.page);
    const requested = typeof ctx.query.account === 'string' ? ctx.query.account : '';
    // Without `account`, the movements of all the user's accounts ("Tous mes comptes").
    const loaded = await unlessOutage(
      transactions.historyPage(user.id, requested || undefined, pageToLoad(page), PAGE_SIZE),
    );
    const movements = loaded && pageToLoad(page) === page ? loaded.movements : [];

    render(
      ctx,
      'history.html',
      {
        title: 'Opérations',
        page: 'history',
        accounts: loaded?.accounts ?? [],
        selectedAccount: requested || null,
        movements,
        outage: loaded ? null : OUTAGE_MESSAGE,
        pagination: pagination(
          '/transactions',
          requested ? { account: requested } : {},
          page,
          PAGE_SIZE,
          loaded?.hasNext ?? false,
          loaded ? movements.length : 1,
        ),
      },
      loaded ? 200 : outageStatus(ctx),
    );
  }

  return new Router().get('/transactions', showHistory);
}
