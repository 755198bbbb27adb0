import Router from '@koa/router';
import type Koa from 'koa';
import type { AccountView, MovementView } from '#shared/contract/api.js';
import { currentUser } from '../auth/current-user.js';
import { pageNumber, pagination, unavailableMessage, type PageDeps } from './page-helpers.js';

const PAGE_SIZE = 20;

/** GET /transactions: one account's movements, newest first, a page at a time. */
export function historyRoutes({ render, transactions }: PageDeps): Router {
  async function showHistory(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const page = pageNumber(ctx.query.page);
    const requested = typeof ctx.query.account === 'string' ? ctx.query.account : '';
    let accounts: AccountView[] = [];
    let movements: MovementView[] = [];
    let hasNext = false;
    let movementsError: string | null = null;
    let selectedAccount: string | null = null;
    try {
      const history = await transactions.historyPage(user.id, requested || undefined, page, PAGE_SIZE);
      ({ accounts, movements, hasNext } = history);
      selectedAccount = history.account;
    } catch (err) {
      movementsError = unavailableMessage(err);
    }
    render(ctx, 'transactions.html', {
      title: 'Opérations',
      page: 'transactions',
      accounts,
      selectedAccount,
      movements,
      movementsError,
      pagination: pagination(
        '/transactions',
        selectedAccount ? { account: selectedAccount } : {},
        page,
        PAGE_SIZE,
        hasNext,
      ),
    });
  }

  return new Router().get('/transactions', showHistory);
}
