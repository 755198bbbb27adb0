import Router from '@koa/router';
import type { Knex } from 'knex';
import type { Config } from '../../../shared/src/config.js';
import type { Logger } from '../../../shared/src/logger.js';
import { accountRoutes } from './accounts.js';
import { ledgerRoutes } from './ledger.js';
import { movementRoutes } from './movements.js';
import { transferRoutes } from './transfers.js';

export interface ApiDeps {
  config: Config;
  db: Knex;
  logger: Logger;
}

/**
 * The JSON API the web service calls. Runs after the signature check: the acting user comes
 * from the signed header only (see actor.ts for how each route loads it).
 */
export function apiRoutes({ db, logger }: ApiDeps): Router {
  const router = new Router({ prefix: '/api' });
  for (const routes of [accountRoutes(db), movementRoutes(db), transferRoutes(db, logger), ledgerRoutes(db)]) {
    router.use(routes.routes(), routes.allowedMethods({ throw: false }));
  }
  return router;
}
