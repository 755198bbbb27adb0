import Koa from 'koa';
import type { Knex } from 'knex';
import { allowedMethods } from '#shared/allowed-methods.js';
import type { Logger } from '#shared/logger.js';
import { createMetrics, httpMetrics, metricsRoutes, poolMetrics } from '#shared/metrics.js';
import { createSchemaCheck, type SchemaCheck } from '#shared/migrations/runner.js';
import { parseBody } from '#shared/request-body.js';
import { requestIdAndLogging } from '#shared/request-logging.js';
import { systemRoutes } from '#shared/system-routes.js';
import type { TransactionsConfig } from './config.js';
import { jsonErrors, resourceNotFound } from './errors-json.js';
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
  const metricsRouter = metricsRoutes(metrics);

  app.use(httpMetrics(metrics));
  app.use(requestIdAndLogging(logger, config.appColor, { clientAddressFromCaller: true }));
  app.use(jsonErrors(logger));
  app.use(async function noSniffNoStore(ctx, next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(system.routes());
  app.use(metricsRouter.routes());
  app.use(allowedMethods([system, api, metricsRouter], resourceNotFound));
  app.use(async function schemaIsCurrent(_ctx, next) {
    await schemaCheck.ensure();
    await next();
  });
  // The web client never compresses: no decompression work before the signature is checked.
  app.use(parseBody({ type: 'json', encodings: [], limit: '16kb' }));
  app.use(requireSignature(config.signing, logger));
  app.use(api.routes());
  return app;
}
