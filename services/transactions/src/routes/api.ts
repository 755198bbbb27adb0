import Router from '@koa/router';
import type { Knex } from 'knex';
import type { Config } from '../../../shared/src/config.js';
import type { Logger } from '../../../shared/src/logger.js';
import { loadActor, type Actor } from '../ledger/actors.js';
import type { ActingUser } from '../signature-auth.js';
import { accountRoutes } from './accounts.js';
import { ledgerRoutes } from './ledger.js';
import { movementRoutes } from './movements.js';
import { transferRoutes } from './transfers.js';

export interface ApiDeps {
  config: Config;
  db: Knex;
  logger: Logger;
}

export interface ApiState {
  actor: Actor;
}

/**
 * The JSON API the web service calls. Runs after the signature check: the acting user comes
 * from the signed header and is loaded from the database (existence, admin flag) here.
 */
export function apiRoutes({ db, logger }: ApiDeps): Router {
  const router = new Router({ prefix: '/api' });
  router.use(async (ctx, next) => {
    const acting = ctx.state.actingUser as ActingUser;
    ctx.state.actor = await loadActor(db, acting.id);
    await next();
  });
  for (const routes of [accountRoutes(db), movementRoutes(db), transferRoutes(db, logger), ledgerRoutes(db)]) {
    router.use(routes.routes(), routes.allowedMethods({ throw: false }));
  }
  return router;
}
