import Router from '@koa/router';
import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import type { MovementCounter } from '../metrics.js';
import { accountRoutes } from './accounts.js';
import { ledgerRoutes } from './ledger.js';
import { overviewRoutes } from './overview.js';
import { transferRoutes } from './transfers.js';

/**
 * The JSON API the web service calls, one file per route group. Runs after the signature check:
 * the acting user comes from the signed header only (routes/actor.ts loads it where needed).
 */
export function apiRoutes(db: Knex, logger: Logger, movements: MovementCounter): Router {
  const router = new Router({ prefix: '/api' });
  for (const routes of [
    accountRoutes(db),
    overviewRoutes(db),
    transferRoutes(db, logger, movements),
    ledgerRoutes(db),
  ]) {
    router.use(routes.routes());
  }
  return router;
}
