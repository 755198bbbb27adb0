import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import session from 'koa-session';
import type { Knex } from 'knex';
import { allowedMethods } from '#shared/allowed-methods.js';
import type { Logger } from '#shared/logger.js';
import { createMetrics, httpMetrics, metricsRoutes, poolMetrics } from '#shared/metrics.js';
import { createSchemaCheck, type SchemaCheck } from '#shared/migrations/runner.js';
import { parseBody } from '#shared/request-body.js';
import { requestIdAndLogging } from '#shared/request-logging.js';
import { systemRoutes } from '#shared/system-routes.js';
import { verifyCsrf } from './auth/csrf.js';
import { loadUser } from './auth/current-user.js';
import { LoginGuard } from './auth/login-guard.js';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.js';
import { createSessionStore } from './auth/session-store.js';
import type { WebConfig } from './config.js';
import { htmlErrors, pageNotFound } from './errors-html.js';
import { hashQueueMetrics } from './metrics.js';
import { createRenderer } from './render.js';
import { webRoutes } from './routes/index.js';
import { WEB_MIGRATIONS } from './schema.js';
import { securityHeaders } from './security-headers.js';
import { staticFiles } from './static-files.js';
import { forwardedHeadersFromTrustedProxyOnly } from './trusted-proxy.js';
import { createTransactionsClient, type TransactionsClient } from './transactions-client.js';
import { WriteLimits } from './write-limits.js';

export interface WebDeps {
  config: WebConfig;
  db: Knex;
  logger: Logger;
  hasher?: PasswordHasher;
  transactions?: TransactionsClient;
  schema?: SchemaCheck;
}

// views/ and static/ sit beside src/ (copied next to the compiled files by the build).
const webRoot = fileURLToPath(new URL('..', import.meta.url));

export function createHasher(config: WebConfig): PasswordHasher {
  return createPasswordHasher(config.scrypt, {
    concurrency: config.hashConcurrency,
    maxQueue: config.hashQueueMax,
    maxWaitMs: config.hashQueueTimeoutMs,
  });
}

/**
 * The web service: pages, forms, sessions, users. Everything about money goes through the signed
 * transactions client; this service writes no money table.
 */
export function createApp(deps: WebDeps): Koa {
  const { config, db, logger } = deps;
  const app = new Koa({ keys: [config.secretKey], proxy: config.trustProxy !== false, maxIpsCount: 1 });
  app.silent = true;
  const render = createRenderer(
    `${webRoot}views`,
    config.appColor,
    config.nodeEnv === 'production',
    config.secretKey,
    config.displayTimeZone,
  );
  const hasher = deps.hasher ?? createHasher(config);
  const transactions = deps.transactions ?? createTransactionsClient(config.transactionsUrl, config.signing, logger);
  const guard = new LoginGuard(db, config.login);
  const limits = new WriteLimits(db, config.writeLimits);
  const schema = deps.schema ?? createSchemaCheck(db, WEB_MIGRATIONS, logger);
  const system = systemRoutes(config, db, schema);
  const pages = webRoutes({ db, logger, hasher, guard, limits, render, transactions, secretKey: config.secretKey });
  const metrics = createMetrics('web');
  poolMetrics(metrics, db);
  hashQueueMetrics(metrics, hasher);
  const metricsRouter = metricsRoutes(metrics);

  // The middleware order, outermost first. Each step says why it stands where it does.
  // 1. Drop X-Forwarded-* from anyone but the trusted proxy, before anything reads ctx.ip or
  //    ctx.secure (logs, login throttling, secure cookies).
  app.use(forwardedHeadersFromTrustedProxyOnly(config.trustProxy));
  // 2. Count and time every request, probes, static files and errors included; it reads the
  //    matched route pattern once the inner steps have routed the request.
  app.use(httpMetrics(metrics));
  // 3. Give the request its id before anything logs, so every line of it carries the id.
  app.use(requestIdAndLogging(logger, config.appColor));
  // 4. Security headers on every response, including probes, static files and error pages.
  app.use(securityHeaders());
  // 5. Probes (/health, /ready, /version) and /metrics: no session, no schema check (/ready is
  //    how the deploy learns the schema is behind), no CSRF.
  app.use(system.routes());
  app.use(metricsRouter.routes());
  // 6. Static files: no database, no session row for a stylesheet.
  app.use(staticFiles(`${webRoot}static`));
  // 7. From here on every error is a French HTML page with the request id.
  app.use(htmlErrors(logger, render));
  // 8. Unknown page → 404, wrong method → 405 + Allow, before the body is read or CSRF checked:
  //    a PUT on /login is a wrong method, not an expired form.
  app.use(allowedMethods([system, metricsRouter, ...pages], pageNotFound));
  // 9. Pages need the whole schema: 503 until the migrate job has run.
  app.use(async function schemaIsCurrent(_ctx, next) {
    await schema.ensure();
    await next();
  });
  // 10. Decide whether cookies are Secure before the session middleware writes one.
  app.use(async function secureCookiesOverHttps(ctx, next) {
    ctx.sessionOptions.secure = ctx.secure;
    await next();
  });
  // 11. The session (a row in `sessions`), then the user it belongs to.
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
  // 12. Read the form body only for a request that reached a real page, and before CSRF, which
  //     reads the token from it.
  app.use(parseBody({ type: 'form', encodings: ['gzip', 'deflate', 'br'], limit: '16kb' }));
  // 13. CSRF needs both the session (a logged-in user's token) and the body (the form's token).
  app.use(verifyCsrf(config.secretKey));
  // 14. The pages themselves.
  for (const router of pages) app.use(router.routes());
  return app;
}

/** 256-bit random session ids. */
function randomSessionId(): string {
  return randomBytes(32).toString('base64url');
}
