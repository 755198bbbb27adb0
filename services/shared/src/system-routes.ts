import Router from '@koa/router';
import type { Knex } from 'knex';
import type { ServerConfig } from './config.js';
import { pingDb } from './db.js';
import type { SchemaCheck } from './migrations/runner.js';

/**
 * /health (process alive), /ready (database answers and its schema is at the version this release
 * needs), /version (what and which colour).
 */
export function systemRoutes(config: ServerConfig, db: Knex, schema: SchemaCheck): Router {
  const router = new Router();
  router.get('/health', function health(ctx) {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async function ready(ctx) {
    let report;
    try {
      await pingDb(db);
      report = await schema.report();
    } catch {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = {
        status: 'unavailable',
        error: { code: 'db_unavailable', message: 'La base de données ne répond pas.' },
      };
      return;
    }
    if (!report.ready) {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = {
        status: 'unavailable',
        schema: report,
        error: {
          code: 'schema_behind',
          message:
            'Le schéma de la base est plus ancien que cette version : la migration (npm run db:migrate) doit passer.',
        },
      };
      return;
    }
    ctx.body = { status: 'ready', schema: { required: report.required } };
  });
  router.get('/version', function version(ctx) {
    ctx.body = { service: config.service, version: config.version, color: config.appColor };
  });
  return router;
}
