import Router from '@koa/router';
import { requireAdmin, requireLogin } from '../auth/current-user.js';
import { accountingRoutes } from './accounting.js';
import { auditRoutes } from './audit.js';
import { authRoutes, type AuthDeps } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { historyRoutes } from './history.js';
import { openAccountRoutes } from './open-account.js';
import type { PageDeps } from './page-helpers.js';
import { registerRoutes } from './register.js';
import { tradingRoutes } from './trading.js';
import { transferRoutes } from './transfer.js';

/**
 * Every page, one file per page group, by access level: public pages, the logged-in customer's
 * pages (requireLogin once for the whole router) and the admin's (requireLogin + requireAdmin).
 */
export function webRoutes(deps: AuthDeps & PageDeps): Router[] {
  const publicPages = new Router();
  for (const group of [authRoutes(deps), registerRoutes(deps)]) publicPages.use(group.routes());

  const customerPages = new Router();
  customerPages.use(requireLogin);
  for (const group of [
    dashboardRoutes(deps),
    historyRoutes(deps),
    transferRoutes(deps),
    openAccountRoutes(deps),
    tradingRoutes(deps),
  ]) {
    customerPages.use(group.routes());
  }

  const adminPages = new Router();
  adminPages.use(requireLogin, requireAdmin);
  adminPages.use(accountingRoutes(deps).routes());
  adminPages.use(auditRoutes(deps).routes());

  return [publicPages, customerPages, adminPages];
}
