import Router from '@koa/router';
import type { Knex } from 'knex';
import type { Config } from './config.js';
import { pingDb } from './db.js';

/** /health (process alive), /ready (database answers), /version (what and which colour). */
export function systemRoutes(config: Config, db: Knex): Router {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    try {
      await pingDb(db);
      ctx.body = { status: 'ready' };
    } catch {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = {
        status: 'unavailable',
        error: { code: 'db_unavailable', message: 'La base de données ne répond pas.' },
      };
    }
  });
  router.get('/version', (ctx) => {
    ctx.body = { service: config.service, version: config.version, color: config.appColor };
  });
  return router;
}
