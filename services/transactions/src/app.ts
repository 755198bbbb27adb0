import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type { Knex } from 'knex';
import type { Config } from '../../shared/src/config.js';
import type { Logger } from '../../shared/src/logger.js';
import { requestIdAndLogging } from '../../shared/src/koa-middleware.js';
import { systemRoutes } from '../../shared/src/system-routes.js';
import { jsonErrors } from './errors-json.js';
import { requireSignature } from './signature-auth.js';
import { apiRoutes } from './routes/api.js';

export interface TransactionsDeps {
  config: Config;
  db: Knex;
  logger: Logger;
}

/** The transactions service: internal JSON API, every /api call signed by the web service. */
export function createApp({ config, db, logger }: TransactionsDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const system = systemRoutes(config, db);
  const api = apiRoutes({ config, db, logger });

  app.use(requestIdAndLogging(logger, config.appColor));
  app.use(jsonErrors(logger));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(system.routes());
  app.use(system.allowedMethods());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', strict: true }));
  app.use(async (ctx, next) => {
    if (ctx.path.startsWith('/api/')) {
      await requireSignature(config.signing, logger)(ctx, next);
    } else {
      await next();
    }
  });
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: false }));
  return app;
}
