import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type { Knex } from 'knex';
import type { Logger } from '#shared/logger.js';
import { createMetrics, httpMetrics, metricsRoutes, poolMetrics } from '#shared/metrics.js';
import { createSchemaCheck, type SchemaCheck } from '#shared/migrations/runner.js';
import { requestIdAndLogging } from '#shared/request-logging.js';
import { systemRoutes } from '#shared/system-routes.js';
import type { TransactionsConfig } from './config.js';
import { jsonErrors } from './errors-json.js';
import { movementMetrics } from './metrics.js';
import { apiRoutes } from './routes/api.js';
import { TRANSACTIONS_MIGRATIONS } from './schema.js';
import { requireSignature } from './signature-auth.js';

export interface TransactionsDeps {
  config: TransactionsConfig;
  db: Knex;
  logger: Logger;
  schema?: SchemaCheck;
}

/** The transactions service: internal JSON API, every /api call signed by the web service. */
export function createApp({ config, db, logger, schema }: TransactionsDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const schemaCheck = schema ?? createSchemaCheck(db, TRANSACTIONS_MIGRATIONS, logger);
  const system = systemRoutes(config, db, schemaCheck);
  const metrics = createMetrics('transactions');
  poolMetrics(metrics, db);
  const api = apiRoutes(db, logger, movementMetrics(metrics));

  app.use(httpMetrics(metrics));
  app.use(requestIdAndLogging(logger, config.appColor));
  app.use(jsonErrors(logger));
  app.use(async function noSniffNoStore(ctx, next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(system.routes());
  app.use(system.allowedMethods());
  app.use(metricsRoutes(metrics).routes());
  app.use(async function schemaIsCurrent(_ctx, next) {
    await schemaCheck.ensure();
    await next();
  });
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', strict: true }));
  app.use(requireSignature(config.signing, logger));
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: false }));
  return app;
}
