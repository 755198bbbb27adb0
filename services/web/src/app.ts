import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import session from 'koa-session';
import type { Knex } from 'knex';
import type { Config } from '../../shared/src/config.js';
import type { Logger } from '../../shared/src/logger.js';
import { requestIdAndLogging } from '../../shared/src/koa-middleware.js';
import { createPasswordHasher, type PasswordHasher } from '../../shared/src/passwords.js';
import { systemRoutes } from '../../shared/src/system-routes.js';
import { verifyCsrf } from './csrf.js';
import { loadUser } from './current-user.js';
import { htmlErrors } from './errors-html.js';
import { LoginThrottle } from './login-throttle.js';
import { createRenderer } from './render.js';
import { authRoutes } from './routes/auth.js';
import { pageRoutes } from './routes/pages.js';
import { securityHeaders } from './security-headers.js';
import { createSessionStore } from './session-store.js';
import { staticFiles } from './static-files.js';
import { createTransactionsClient, type TransactionsClient } from './transactions-client.js';

export interface WebDeps {
  config: Config;
  db: Knex;
  logger: Logger;
  hasher?: PasswordHasher;
  transactions?: TransactionsClient;
}

// views/ and static/ sit beside src/ (copied next to the compiled files by the build).
const webRoot = fileURLToPath(new URL('..', import.meta.url));

export function createHasher(config: Config): PasswordHasher {
  return createPasswordHasher(config.scrypt, {
    concurrency: config.hashConcurrency,
    maxQueue: config.hashQueueMax,
    maxWaitMs: config.hashQueueTimeoutMs,
  });
}

/** The web service: pages, forms, sessions. Talks to the transactions service for money. */
export function createApp(deps: WebDeps): Koa {
  const { config, db, logger } = deps;
  const app = new Koa({ keys: [config.secretKey], proxy: config.trustProxy, maxIpsCount: 1 });
  app.silent = true;
  const render = createRenderer(`${webRoot}views`, config.appColor, config.nodeEnv === 'production');
  const hasher = deps.hasher ?? createHasher(config);
  const transactions = deps.transactions ?? createTransactionsClient(config.transactionsUrl, config.signing, logger);
  const throttle = new LoginThrottle(
    config.loginMaxFailuresPerUser,
    config.loginMaxFailuresPerIp,
    config.loginFailureWindowS * 1000,
  );
  const system = systemRoutes(config, db);
  const auth = authRoutes({ db, logger, hasher, throttle, render });
  const pages = pageRoutes({ logger, render, transactions });

  app.use(requestIdAndLogging(logger, config.appColor));
  app.use(securityHeaders());
  app.use(system.routes());
  app.use(staticFiles(`${webRoot}static`));
  app.use(htmlErrors(logger, render));
  app.use(async (ctx, next) => {
    // Secure cookies whenever the request arrived over HTTPS (per the one trusted proxy hop).
    ctx.sessionOptions.secure = ctx.secure;
    await next();
  });
  app.use(
    session(
      {
        key: 'bank.sid',
        store: createSessionStore(db),
        genid: () => randomSessionId(),
        maxAge: config.sessionIdleTimeoutS * 1000,
        renew: true,
        rolling: false,
        httpOnly: true,
        sameSite: 'lax',
        signed: true,
      },
      app,
    ),
  );
  app.use(loadUser(db, config.sessionAbsoluteTimeoutS * 1000));
  app.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb', strict: true }));
  app.use(verifyCsrf());
  app.use(auth.routes());
  app.use(pages.routes());
  app.use(auth.allowedMethods());
  app.use(pages.allowedMethods());
  return app;
}

/** 256-bit random session ids. */
function randomSessionId(): string {
  return randomBytes(32).toString('base64url');
}
