import Router from '@koa/router';
import type Koa from 'koa';
import type { AccountView, MovementView } from '#shared/contract/api.js';
import { currentUser } from '../auth/current-user.js';
import { unavailableMessage, type PageDeps } from './page-helpers.js';

/** GET /dashboard: the primary balance, the accounts and the five latest movements. */
export function dashboardRoutes({ render, transactions }: PageDeps): Router {
  async function showDashboard(ctx: Koa.Context) {
    const user = currentUser(ctx);
    let accounts: AccountView[] = [];
    let movements: MovementView[] = [];
    let movementsError: string | null = null;
    try {
      ({ accounts, movements } = await transactions.overview(user.id, 5));
    } catch (err) {
      movementsError = unavailableMessage(err);
    }
    const primary = accounts.find((a) => a.kind === 'primary') ?? accounts[0];
    render(ctx, 'dashboard.html', {
      title: 'Tableau de bord',
      page: 'dashboard',
      profile: { username: user.username, balance: primary?.balance ?? null, currency: primary?.currency ?? 'EUR' },
      accounts,
      movements,
      movementsError,
    });
  }

  return new Router().get('/dashboard', showDashboard);
}
