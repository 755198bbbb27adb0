import Router from '@koa/router';
import type Koa from 'koa';
import { currentUser } from '../auth/current-user.js';
import { OUTAGE_MESSAGE, outageStatus, unlessOutage, type PageDeps } from './page-helpers.js';

/** GET /dashboard: the primary balance, the accounts and the five latest movements. */
export function dashboardRoutes({ render, transactions }: PageDeps): Router {
  async function showDashboard(ctx: Koa.Context) {
    const user = currentUser(ctx);
    const loaded = await unlessOutage(transactions.overview(user.id, 5));
    const { accounts, movements } = loaded ?? { accounts: [], movements: [] };
    const primary = accounts.find((a) => a.kind === 'primary') ?? accounts[0];
    render(
      ctx,
      'dashboard.html',
      {
        title: 'Tableau de bord',
        page: 'dashboard',
        profile: { username: user.username, balance: primary?.balance ?? null, currency: primary?.currency ?? 'EUR' },
        accounts,
        movements,
        outage: loaded ? null : OUTAGE_MESSAGE,
      },
      loaded ? 200 : outageStatus(ctx),
    );
  }

  return new Router().get('/dashboard', showDashboard);
}
